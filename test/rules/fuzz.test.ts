/**
 * The rule-file fuzzer: thousands of mutants of rules/default.yaml (byte flips, deletions, duplications,
 * deep nesting, huge strings, YAML punctuation), deterministic from a fixed seed. For every mutant the
 * loader must return (never throw), within a time bound, and every problem must name file:line:col
 * inside the mutant. A failure names the mutant's index and the mutations that made it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRandom, type Random } from '../../src/demo/random.js';
import { loadRuleFiles, parseRules } from '../../src/rules/load.js';
import { MAX_NESTING_DEPTH, MAX_PROBLEM_LINES } from '../../src/yaml/limits.js';
import { formatProblems, type Problem } from '../../src/yaml/problem.js';

const BASE = readFileSync(resolve(__dirname, '../../rules/default.yaml'), 'utf8');
const SEED = 'agentdrift-fuzz-1';
const MUTANTS = 2000;
/** Per mutant; the slowest take tens of milliseconds. Generous, so a slow machine does not flake. */
const MAX_MS_PER_MUTANT = 2000;

const int = (r: Random, n: number) => Math.floor(r.next() * n);
const pick = <T>(r: Random, xs: readonly T[]): T => xs[int(r, xs.length)]!;

/** Text that means something to YAML, to the validator or to the templates. */
const TOKENS = [
  ':', '-', '- ', '? ', '[', ']', '{', '}', ',', '#', '&a', '*a', '&a ', ' *a', '!!str', '!!binary', '!unknown', '|', '>-', '"', "'",
  '\t', '\n', '\r\n', '---\n', '...\n', '%YAML 1.2\n', '\\', '\0', '\uFEFF', '\u2028', '🚀', '{{', '}}', '{{ $value }}', '{{ $nope',
  '| printf "%d"', '0', '-1', '1e309', '.nan', '.inf', '~', 'null', 'true', 'no', '0x1F', '20%', '-20%', '7d', '0ms', '91d', '1h30m',
  'tool_calls_per_run', 'signal: nope', 'group_by: [x]', 'groups:', 'rules:', '<<: *a', "'; DROP TABLE agent_runs; --",
];

type Mutation = { name: string; apply: (r: Random, text: string) => string };

const MUTATIONS: Mutation[] = [
  { name: 'flip a byte', apply: (r, t) => { const i = int(r, t.length); return t.slice(0, i) + String.fromCharCode(int(r, 128)) + t.slice(i + 1); } },
  { name: 'flip a bit', apply: (r, t) => { const i = int(r, t.length); return t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) ^ (1 << int(r, 7))) + t.slice(i + 1); } },
  { name: 'delete a range', apply: (r, t) => { const i = int(r, t.length); return t.slice(0, i) + t.slice(i + 1 + int(r, 200)); } },
  { name: 'delete a line', apply: (r, t) => { const ls = t.split('\n'); ls.splice(int(r, ls.length), 1); return ls.join('\n'); } },
  { name: 'duplicate a range', apply: (r, t) => { const i = int(r, t.length); const s = t.slice(i, i + 1 + int(r, 400)); const j = int(r, t.length); return t.slice(0, j) + s + t.slice(j); } },
  { name: 'duplicate a line', apply: (r, t) => { const ls = t.split('\n'); const i = int(r, ls.length); ls.splice(i, 0, ls[i]!); return ls.join('\n'); } },
  { name: 'duplicate the file', apply: (_r, t) => t + t },
  { name: 'swap two lines', apply: (r, t) => { const ls = t.split('\n'); const i = int(r, ls.length); const j = int(r, ls.length); [ls[i], ls[j]] = [ls[j]!, ls[i]!]; return ls.join('\n'); } },
  { name: 'reindent a line', apply: (r, t) => { const ls = t.split('\n'); const i = int(r, ls.length); ls[i] = ' '.repeat(int(r, 20)) + ls[i]!.trimStart(); return ls.join('\n'); } },
  { name: 'insert a token', apply: (r, t) => { const i = int(r, t.length + 1); return t.slice(0, i) + pick(r, TOKENS) + t.slice(i); } },
  { name: 'replace a value', apply: (r, t) => { const ls = t.split('\n'); const i = int(r, ls.length); const c = ls[i]!.indexOf(': '); if (c >= 0) ls[i] = `${ls[i]!.slice(0, c + 2)}${pick(r, TOKENS)}`; return ls.join('\n'); } },
  {
    name: 'nest deeply',
    apply: (r, t) => {
      const n = pick(r, [MAX_NESTING_DEPTH - 7, MAX_NESTING_DEPTH, MAX_NESTING_DEPTH + 1, 1000, 3000]);
      const style = int(r, 3);
      const deep = style === 0 ? `${'['.repeat(n)}${']'.repeat(n)}` : style === 1 ? `${'{a: '.repeat(n)}1${'}'.repeat(n)}` : `${'- '.repeat(n)}x`;
      const ls = t.split('\n');
      const i = int(r, ls.length);
      const c = ls[i]!.indexOf(': ');
      ls[i] = c >= 0 ? `${ls[i]!.slice(0, c + 2)}${deep}` : `${ls[i]}${deep}`;
      return ls.join('\n');
    },
  },
  {
    name: 'huge string',
    apply: (r, t) => {
      const s = pick(r, ['x', 'ab', '"', '\\', ' ', '🚀', '%']).repeat(pick(r, [1_000, 10_000, 30_000]));
      const i = int(r, t.length + 1);
      return t.slice(0, i) + (r.next() < 0.5 ? s : JSON.stringify(s)) + t.slice(i);
    },
  },
  {
    name: 'many entries',
    apply: (r, t) => {
      const n = pick(r, [100, 500]);
      return `${t}\n${Array.from({ length: n }, (_, k) => `k${k % 97}: v`).join('\n')}\n`;
    },
  },
];

function mutant(r: Random): { text: string; steps: string[] } {
  let text = BASE;
  const steps: string[] = [];
  const count = 1 + int(r, 3);
  for (let k = 0; k < count; k++) {
    const m = pick(r, MUTATIONS);
    steps.push(m.name);
    text = m.apply(r, text);
  }
  return { text, steps };
}

const lines = (text: string) => text.split(/\r\n|\r|\n/).length;

/** Problems must point inside the text they are about. */
function misplaced(p: Problem, file: string, lineCount: number): string | null {
  if (p.file !== file) return `wrong file ${p.file}`;
  if (!Number.isInteger(p.line) || !Number.isInteger(p.col) || p.line < 1 || p.col < 1) return `bad position ${p.line}:${p.col}`;
  if (p.line > lineCount + 1) return `line ${p.line} past the end (${lineCount} lines)`;
  if (p.message.trim() === '') return 'empty message';
  return null;
}

/** What `check` prints: file:line:col lines, then at most one count line. */
function badOutput(printed: readonly string[], file: string): string | null {
  const positioned = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: \\S[^\\n]*$`);
  for (const [i, line] of printed.entries()) {
    const last = i === printed.length - 1 && i === MAX_PROBLEM_LINES;
    if (last ? !/^\.\.\. and \d+ more problems?$/.test(line) : !positioned.test(line)) return `printed ${JSON.stringify(line.slice(0, 200))}`;
  }
  return printed.length > MAX_PROBLEM_LINES + 1 ? `printed ${printed.length} lines` : null;
}

describe('rule-file fuzzer (seeded, deterministic)', () => {
  it(`${MUTANTS} mutants of rules/default.yaml: no throw, no hang, every problem positioned`, () => {
    const r = createRandom(SEED);
    const failures: string[] = [];
    let invalid = 0;
    let slowest = 0;
    for (let i = 0; i < MUTANTS && failures.length < 10; i++) {
      const { text, steps } = mutant(r);
      const what = `mutant ${i} (${steps.join(', ')})`;
      const started = performance.now();
      let result;
      try {
        result = parseRules([{ file: 'default.yaml', text }]);
      } catch (e) {
        failures.push(`${what}: threw ${(e as Error)?.stack ?? String(e)}`);
        continue;
      }
      const ms = performance.now() - started;
      slowest = Math.max(slowest, ms);
      if (ms > MAX_MS_PER_MUTANT) failures.push(`${what}: took ${ms.toFixed(0)} ms`);
      if ((result.ruleSet === null) !== (result.problems.length > 0)) failures.push(`${what}: a rule set and problems, or neither`);
      if (result.problems.length > 0) invalid++;
      const lineCount = lines(text);
      for (const p of result.problems) {
        const why = misplaced(p, 'default.yaml', lineCount);
        if (why) {
          failures.push(`${what}: ${why}`);
          break;
        }
      }
      const bad = badOutput(formatProblems(result.problems), 'default.yaml');
      if (bad) failures.push(`${what}: ${bad}`);
    }
    expect(failures).toEqual([]);
    // The mutants exercise the validator, not only the YAML parser: most are invalid, some still valid.
    expect(invalid).toBeGreaterThan(MUTANTS * 0.5);
    expect(invalid).toBeLessThan(MUTANTS);
    expect(slowest).toBeLessThan(MAX_MS_PER_MUTANT);
  });

  it('the same seed gives the same mutants', () => {
    const a = createRandom(SEED);
    const b = createRandom(SEED);
    for (let i = 0; i < 50; i++) expect(mutant(a)).toEqual(mutant(b));
  });

  it('loads mutants from disk too (the path `check` and the daemon take)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-fuzz-'));
    const r = createRandom(`${SEED}-files`);
    for (let i = 0; i < 30; i++) {
      const { text, steps } = mutant(r);
      const f = join(dir, `m${i}.yaml`);
      writeFileSync(f, text);
      const result = await loadRuleFiles([f]);
      for (const p of result.problems) expect(misplaced(p, f, lines(text)), `mutant ${i} (${steps.join(', ')})`).toBeNull();
    }
  });
});
