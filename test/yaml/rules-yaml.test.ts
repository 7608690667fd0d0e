import { describe, expect, it } from 'vitest';
import { labelOf } from '../../src/yaml/check.js';
import { deepFreeze } from '../../src/yaml/freeze.js';
import { parseYaml, positionOf, sortProblems } from '../../src/yaml/source.js';

const TEXT = `a:
  b: 1
  empty:
  list:
    - x
    - { k: v }
flow: { p: [1, 2] }
ref: &r { q: 1 }
alias: *r
`;

describe('positionOf', () => {
  const { source, problems } = parseYaml(TEXT, 'f.yaml');

  it('parses without problems', () => {
    expect(problems).toEqual([]);
  });

  it.each<[(string | number)[], 'key' | 'value', string]>([
    [[], 'value', '1:1'],
    [['a'], 'key', '1:1'],
    [['a'], 'value', '2:3'],
    [['a', 'b'], 'value', '2:6'],
    [['a', 'b'], 'key', '2:3'],
    // an empty value has no position of its own: its key stands in
    [['a', 'empty'], 'value', '3:3'],
    [['a', 'list', 0], 'value', '5:7'],
    [['a', 'list', 1, 'k'], 'value', '6:12'],
    [['a', 'list', 1, 'k'], 'key', '6:9'],
    [['flow', 'p', 1], 'value', '7:16'],
    // through an alias, to where the anchored node was written
    [['alias', 'q'], 'value', '8:14'],
    // a missing key resolves to the deepest part of the path that exists
    [['a', 'missing'], 'value', '2:3'],
    [['a', 'missing', 'deeper'], 'key', '2:3'],
    [['a', 'list', 9], 'value', '5:5'],
  ])('%j (%s) -> %s', (path, anchor, pos) => {
    const p = positionOf(source, path, anchor);
    expect(`${p.line}:${p.col}`).toBe(pos);
  });
});

describe('helpers', () => {
  it.each<[(string | number)[], string]>([
    [['groups', 0, 'rules', 1, 'baseline', 'previous'], 'baseline.previous'],
    [['groups', 0, 'rules', 1, 'group_by', 2], 'group_by[2]'],
    [['groups', 0, 'name'], 'name'],
    [['evaluation', 'timeout'], 'evaluation.timeout'],
    [['receivers', 0], 'receivers[0]'],
    [[], ''],
  ])('labelOf(%j) = %s', (path, label) => {
    expect(labelOf(path)).toBe(label);
  });

  it('deepFreeze freezes nested objects and arrays, and copes with cycles', () => {
    const o: { a: { b: number[] }; self?: unknown } = { a: { b: [1] } };
    o.self = o;
    deepFreeze(o);
    expect(Object.isFrozen(o.a.b)).toBe(true);
    expect(() => o.a.b.push(2)).toThrow(TypeError);
  });

  it('sorts problems by file, line, column, keeping ties in order', () => {
    const p = (file: string, line: number, col: number, message: string) => ({ file, line, col, message });
    expect(sortProblems([p('b', 1, 1, 'x'), p('a', 2, 1, 'y'), p('a', 1, 5, 'z'), p('a', 1, 5, 'w'), p('a', 1, 2, 'v')]).map((x) => x.message)).toEqual([
      'v',
      'z',
      'w',
      'y',
      'x',
    ]);
  });
});
