/**
 * Input limits (docs/configuration.md, "Limits"): what a rule or config file may be before
 * agentdrift refuses it, and how many problems it prints. Each limit fails with one clear, positioned message, never a crash.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { checkPaths } from '../../src/rules/check.js';
import { loadRuleFiles, parseRules } from '../../src/rules/load.js';
import { formatBytes, MAX_FILE_BYTES, MAX_MESSAGE_CHARS, MAX_NESTING_DEPTH, MAX_PROBLEM_LINES } from '../../src/yaml/limits.js';
import { formatProblem, formatProblems, type Problem } from '../../src/yaml/problem.js';
import { parseYaml } from '../../src/yaml/source.js';

const dir = mkdtempSync(join(tmpdir(), 'agentdrift-limits-'));
const write = (name: string, text: string | Buffer) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const lines = (text: string) => parseRules([{ file: 'r.yaml', text }]).problems.map(formatProblem);
const RULE = 'groups:\n  - name: g\n    interval: 5m\n    rules:\n      - alert: A\n        signal: tool_calls_per_run\n        threshold: 20%\n';
const DEPTH_MESSAGE = `YAML: nested more than ${MAX_NESTING_DEPTH} levels deep`;

describe('limits', () => {
  it('are the documented values', () => {
    expect([MAX_FILE_BYTES, MAX_NESTING_DEPTH, MAX_PROBLEM_LINES]).toEqual([1024 * 1024, 64, 100]);
  });
});

describe('file size', () => {
  it('refuses a rule file over 1 MiB without reading it, naming the file and both sizes', async () => {
    const f = write('big.yaml', Buffer.alloc(MAX_FILE_BYTES + 1, 0x23)); // '#': a valid (comment) file but for its size
    const r = await loadRuleFiles([f]);
    expect(r.ruleSet).toBeNull();
    expect(r.problems.map(formatProblem)).toEqual([
      `${f}:1:1: rule file is too large: 1 MiB (1048577 bytes), over the limit of 1 MiB; split the rules over several files`,
    ]);
  });

  it('reads a rule file of exactly the limit', async () => {
    const pad = `${RULE}#`.padEnd(MAX_FILE_BYTES - 1, '#');
    const f = write('at-limit.yaml', `${pad}\n`);
    const r = await loadRuleFiles([f]);
    expect(r.problems).toEqual([]);
    expect(r.ruleSet?.groups).toHaveLength(1);
  });

  it('reports an oversized file next to the problems of the other files', async () => {
    const big = write('big2.yaml', Buffer.alloc(3 * MAX_FILE_BYTES, 0x23));
    const bad = write('bad.yaml', 'groups: 3\n');
    const r = await loadRuleFiles([big, bad], { maxFileBytes: MAX_FILE_BYTES });
    expect(r.problems.map(formatProblem)).toEqual([
      `${bad}:1:9: groups: expected a list, got a number`,
      `${big}:1:1: rule file is too large: 3 MiB (3145728 bytes), over the limit of 1 MiB; split the rules over several files`,
    ].sort());
  });

  it('refuses an oversized config file the same way', async () => {
    const f = write('agentdrift.yaml', Buffer.alloc(MAX_FILE_BYTES + 10, 0x23));
    const r = await loadConfig(f);
    expect(r.config).toBeNull();
    expect(r.problems.map(formatProblem)).toEqual([`${f}:1:1: config file is too large: 1 MiB (1048586 bytes), over the limit of 1 MiB`]);
  });

  it.each([
    [512, '512 bytes'],
    [1536, '1.5 KiB'],
    [MAX_FILE_BYTES, '1 MiB'],
    [157 * MAX_FILE_BYTES + 300_000, '157.3 MiB'],
  ])('formatBytes(%i) = %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});

describe('nesting depth', () => {
  const flowSeq = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}\n`;
  const flowMap = (n: number) => `${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`;
  const blockMap = (n: number) => `${Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n')} 1\n`;
  const blockSeq = (n: number) => `${'- '.repeat(n)}1\n`;
  const inLabels = (n: number) => `${RULE}        labels: ${'{a: '.repeat(n - 5)}1${'}'.repeat(n - 5)}\n`;

  it.each([
    // name, text, line:col of the first collection past the limit
    ['flow sequences', flowSeq(MAX_NESTING_DEPTH + 1), '1:65'],
    ['flow mappings', flowMap(MAX_NESTING_DEPTH + 1), '1:257'],
    ['block mappings', blockMap(MAX_NESTING_DEPTH + 1), '65:65'],
    ['block sequences', blockSeq(MAX_NESTING_DEPTH + 1), '1:129'],
    ['a rule\'s labels', inLabels(MAX_NESTING_DEPTH + 1), '8:253'],
    ['1000 levels (was: Maximum call stack size exceeded)', flowSeq(1000), '1:65'],
    ['100,000 levels', flowSeq(100_000), '1:65'],
  ])('over the limit: %s is one positioned problem', (_name, text, pos) => {
    expect(lines(text)).toEqual([`r.yaml:${pos}: ${DEPTH_MESSAGE}`]);
  });

  it.each([
    ['flow sequences', flowSeq(MAX_NESTING_DEPTH)],
    ['flow mappings', flowMap(MAX_NESTING_DEPTH)],
    ['block mappings', blockMap(MAX_NESTING_DEPTH)],
    ['block sequences', blockSeq(MAX_NESTING_DEPTH)],
    ['a rule\'s labels', inLabels(MAX_NESTING_DEPTH)],
  ])('at the limit: %s parses (and is then checked as usual)', (_name, text) => {
    const { problems } = parseYaml(text, 'r.yaml');
    expect(problems).toEqual([]);
    expect(lines(text).join('\n')).not.toContain('nested more than');
  });

  it('applies to config files too', async () => {
    const f = write('deep-config.yaml', `clickhouse: ${flowMap(200)}`);
    const r = await loadConfig(f);
    expect(r.problems.map(formatProblem)).toEqual([`${f}:1:265: ${DEPTH_MESSAGE}`]);
  });
});

describe('mapping keys', () => {
  it.each([
    ['block mapping', 'groups: []\ngroups: []\n', ['r.yaml:2:1: YAML: this key is written twice in the same mapping: keep one']],
    ['flow mapping', '{a: 1, b: 2, a: 3}\n', ['r.yaml:1:14: YAML: this key is written twice in the same mapping: keep one']],
    ['nested, each repeat', 'x:\n  k: 1\n  k: 2\n  k: 3\n', ['r.yaml:3:3: YAML: this key is written twice in the same mapping: keep one', 'r.yaml:4:3: YAML: this key is written twice in the same mapping: keep one']],
    ['1 and "1" are the same key (keys are text)', 'groups: []\n1: a\n"1": b\n', ['r.yaml:3:1: YAML: this key is written twice in the same mapping: keep one']],
    ['a list as a key', 'groups: []\n? [a, b]\n: 1\n', ['r.yaml:2:3: YAML: a key must be plain text, not a list or mapping']],
    ['a mapping as a key', 'groups: []\n{a: 1}: 2\n', ['r.yaml:2:1: YAML: a key must be plain text, not a list or mapping']],
  ])('%s', (_name, text, expected) => {
    expect(lines(text)).toEqual(expected);
  });

  it('are found in linear time: 100,000 keys in one mapping take seconds, not minutes', () => {
    // The yaml package's own check compares every key with every other one: over a minute for these.
    const text = `${RULE}        labels:\n${Array.from({ length: 100_000 }, (_, i) => `          k${i}: v\n`).join('')}          k7: again\n`;
    const started = performance.now();
    expect(lines(text)).toEqual([`r.yaml:${8 + 100_000 + 1}:11: YAML: this key is written twice in the same mapping: keep one`]);
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it('60,000 unknown keys get their positions in linear time', () => {
    // A scan of the mapping per problem took minutes here.
    const text = Array.from({ length: 60_000 }, (_, i) => `k${i}: v\n`).join('');
    const started = performance.now();
    const problems = parseRules([{ file: 'r.yaml', text }]).problems;
    expect(problems).toHaveLength(60_000);
    expect(problems.at(-1)).toMatchObject({ line: 60_000, col: 1 });
    expect(performance.now() - started).toBeLessThan(30_000);
  });
});

describe('problem output', () => {
  const problem = (i: number): Problem => ({ file: 'r.yaml', line: i + 1, col: 1, message: `problem ${i + 1}` });
  const many = (n: number) => Array.from({ length: n }, (_, i) => problem(i));

  it.each([
    [0, 0, null],
    [1, 1, null],
    [MAX_PROBLEM_LINES, MAX_PROBLEM_LINES, null],
    [MAX_PROBLEM_LINES + 1, MAX_PROBLEM_LINES + 1, '... and 1 more problem'],
    [250, MAX_PROBLEM_LINES + 1, '... and 150 more problems'],
    [100_000, MAX_PROBLEM_LINES + 1, '... and 99900 more problems'],
  ])('%i problems print as %i lines', (n, count, last) => {
    const out = formatProblems(many(n));
    expect(out).toHaveLength(count);
    if (n > 0) expect(out[0]).toBe('r.yaml:1:1: problem 1');
    if (last !== null) {
      expect(out.at(-1)).toBe(last);
      expect(out.at(-2)).toBe(`r.yaml:${MAX_PROBLEM_LINES}:1: problem ${MAX_PROBLEM_LINES}`);
    }
  });

  it('prints one bounded line per problem, whatever its message holds', () => {
    const long = formatProblem({ file: 'r.yaml', line: 3, col: 7, message: `bad ${'x'.repeat(1_000_000)}` });
    expect(long).toBe(`r.yaml:3:7: bad ${'x'.repeat(MAX_MESSAGE_CHARS - 4)}...`);
    expect(formatProblem({ file: 'r.yaml', line: 1, col: 1, message: 'first\nsecond' })).toBe('r.yaml:1:1: first');
  });

  it('agentdrift check prints at most 100 problems, then how many more there are', async () => {
    const rules = Array.from({ length: 300 }, (_, i) => `      - alert: A${i}\n        signal: nope\n        threshold: 20%\n`).join('');
    const f = write('many.yaml', `groups:\n  - name: g\n    interval: 5m\n    rules:\n${rules}`);
    const r = await checkPaths([f]);
    expect(r.ok).toBe(false);
    const out = r.output.split('\n');
    expect(out).toHaveLength(MAX_PROBLEM_LINES + 1);
    expect(out[0]).toMatch(new RegExp(`^${f}:6:17: signal: unknown signal "nope"`));
    expect(out.at(-1)).toBe('... and 200 more problems');
  });

  it('echoes at most 80 characters of a bad value', () => {
    const [line] = lines(RULE.replace('interval: 5m', `interval: ${'9'.repeat(100_000)}x`));
    expect(line).toBe(`r.yaml:3:15: interval: invalid duration "${'9'.repeat(80)}...": use an integer with a unit (ms, s, m, h, d, w, y), largest first, e.g. 30s, 5m, 1h30m, 7d`);
  });
});
