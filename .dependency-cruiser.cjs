/**
 * The import rules of src/ (docs/architecture.md): layers, lowest first. A module may import from
 * its own layer and the layers below it, never from one above; no module takes part in a cycle.
 * Checked by test/architecture.test.ts (and `npx depcruise src`).
 */
const LAYERS = [
  ['util', 'yaml', 'stats', 'log.ts'],
  ['clickhouse'],
  ['store'],
  ['rules'],
  ['signals'],
  ['alerting'],
  ['engine'],
  ['explain'],
  ['notify', 'metrics', 'report'],
  ['http', 'rollup', 'demo'],
  ['persist'],
  ['config'],
  ['daemon'],
  ['cli'],
];

const pathOf = (name) => (name.endsWith('.ts') ? `^src/${name.replace('.', '\\.')}$` : `^src/${name}/`);

const layerRules = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1).flat();
  if (above.length === 0) return [];
  return [
    {
      name: `layer-${layer.join('+').replace('.ts', '')}`,
      comment: `${layer.join(', ')} may not import from a higher layer (${above.join(', ')})`,
      severity: 'error',
      from: { path: layer.map(pathOf) },
      to: { path: above.map(pathOf) },
    },
  ];
});

module.exports = {

  forbidden: [
    {
      name: 'no-circular',
      comment: 'modules form no cycle',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unlayered-folder',
      comment: 'every folder of src/ has a layer: add a new one to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.flat().map(pathOf) },
      to: {},
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
