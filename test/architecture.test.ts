/**
 * The import rules of src/ (.dependency-cruiser.cjs, docs/architecture.md): no import from a lower
 * layer to a higher one, no module cycle, every folder in a layer. Checked with dependency-cruiser on
 * the real tree, and on a copy with planted violations, so that a checker that sees nothing (a
 * resolution problem, a path typo) fails here instead of passing quietly.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

function cruise(cwd: string): { violations: Violation[]; modules: number } {
  let out: string;
  try {
    out = execFileSync(process.execPath, [DEPCRUISE, 'src', '--config', join(cwd, '.dependency-cruiser.cjs'), '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    // Exit code 1 with violations: the JSON is still on stdout.
    out = (e as { stdout?: string }).stdout ?? '';
    if (out === '') throw e;
  }
  const report = JSON.parse(out) as { summary: { violations: Violation[]; totalCruised: number } };
  return { violations: report.summary.violations, modules: report.summary.totalCruised };
}

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

describe('architecture', () => {
  it('src/ has no import up the layers and no cycle', () => {
    const r = cruise(ROOT);
    expect(r.modules).toBeGreaterThan(100);
    expect(r.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  }, 120_000);

  it('the check sees a planted upward import, a planted cycle and an unlayered folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-arch-'));
    temps.push(dir);
    cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
    for (const f of ['.dependency-cruiser.cjs', 'tsconfig.json']) cpSync(join(ROOT, f), join(dir, f));
    writeFileSync(join(dir, 'src', 'stats', 'upward.ts'), "import { Engine } from '../engine/engine.js';\nexport const e = Engine;\n");
    writeFileSync(join(dir, 'src', 'rules', 'cycleA.ts'), "import { b } from './cycleB.js';\nexport const a = (): number => b();\n");
    writeFileSync(join(dir, 'src', 'rules', 'cycleB.ts'), "import { a } from './cycleA.js';\nexport const b = (): number => a();\n");
    mkdirSync(join(dir, 'src', 'newfolder'));
    writeFileSync(join(dir, 'src', 'newfolder', 'thing.ts'), "import { systemClock } from '../util/clock.js';\nexport const c = systemClock;\n");
    const got = cruise(dir).violations.map((v) => `${v.rule.name} ${v.from}`);
    expect(got).toContain('layer-util+yaml+stats+log src/stats/upward.ts');
    expect(got).toContain('no-circular src/rules/cycleA.ts');
    expect(got).toContain('no-unlayered-folder src/newfolder/thing.ts');
  }, 120_000);
});
