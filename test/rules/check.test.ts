import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPaths } from '../../src/rules/check.js';
import { emptiedFiles } from '../../src/daemon/daemon.js';
import { parseRules } from '../../src/rules/load.js';

const FIX = 'test/fixtures/rules';

describe('checkPaths (agentdrift check)', () => {
  it.each([
    [['rules'], 'SUCCESS: 1 file, 2 groups, 13 rules'],
    [[`${FIX}/dir`], 'SUCCESS: 2 files, 2 groups, 3 rules'],
    [[`${FIX}/example.yaml`, `${FIX}/dir`], 'SUCCESS: 3 files, 3 groups, 4 rules'],
    [[], 'SUCCESS: 0 files, 0 groups, 0 rules'],
  ])('%j -> %s', async (paths, summary) => {
    const r = await checkPaths(paths);
    expect(r).toMatchObject({ ok: true, output: summary });
    // --format json: the same counts, no problems.
    const [files, groups, rules] = summary.match(/\d+/g)!.map(Number);
    expect(r.json).toEqual({ ok: true, files, groups, rules, warnings: [], problems: [] });
  });

  it('--format json holds every problem with its position, the same as the lines', async () => {
    const r = await checkPaths([`${FIX}/syntax.yaml`, `${FIX}/nope`]);
    expect(r.json.ok).toBe(false);
    expect(r.json.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`)).toEqual(r.output.split('\n').filter((l) => /^[^:]+:\d+:\d+: /.test(l)));
    expect(r.json.problems).toContainEqual({ file: `${FIX}/nope`, line: 1, col: 1, message: 'no such file or directory' });
  });

  it('prints every problem of every path, one per line, sorted by file then line, and no summary', async () => {
    const { ok, output } = await checkPaths([`${FIX}/syntax.yaml`, `${FIX}/nope`, `${FIX}/many-errors.yaml`, `${FIX}/dup`]);
    expect(ok).toBe(false);
    const lines = output.split('\n');
    expect(lines).toHaveLength(27 + 1 + 1 + 2);
    for (const l of lines) expect(l).toMatch(/^[^:]+:\d+:\d+: \S/);
    const keys = lines.map((l) => {
      const [file, line] = l.split(':');
      return [file!, Number(line)] as const;
    });
    const sorted = [...keys].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    expect(keys).toEqual(sorted);
    expect(lines).toContain(`${FIX}/nope:1:1: no such file or directory`);
    expect(lines).toContain(`${FIX}/syntax.yaml:7:1: YAML: a list item must start with '- ' (or, if this line belongs to the item above, indent it like that item's keys)`);
    expect(lines.filter((l) => l.startsWith(path.join(FIX, 'dup')))).toHaveLength(2);
    expect(output).not.toMatch(/SUCCESS/);
  });

  it('warns on an empty file (still valid), not on an explicit `groups: []`', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'agentdrift-check-'));
    const blank = path.join(dir, 'blank.yaml');
    const comments = path.join(dir, 'comments.yaml');
    const explicit = path.join(dir, 'explicit.yaml');
    writeFileSync(blank, '');
    writeFileSync(comments, '# nothing here yet\n');
    writeFileSync(explicit, 'groups: []\n');
    const r = await checkPaths([blank, comments, explicit]);
    expect(r.json.warnings).toHaveLength(2);
    expect(r).toMatchObject({
      ok: true,
      output: [
        `${blank}: warning: the file is empty (no rules); write \`groups: []\` to say that it has none on purpose`,
        `${comments}: warning: the file is empty (no rules); write \`groups: []\` to say that it has none on purpose`,
        'SUCCESS: 3 files, 0 groups, 0 rules',
      ].join('\n'),
    });
  });
});

describe('emptiedFiles (a reload that would drop every rule of a file by accident)', () => {
  const loaded = parseRules([
    { file: 'a.yaml', text: 'groups:\n  - name: a\n    interval: 5m\n    rules:\n      - { alert: A, signal: tool_calls_per_run, threshold: 20% }\n' },
    { file: 'b.yaml', text: 'groups:\n  - name: b\n    interval: 5m\n    rules: []\n' },
  ]);
  const running = loaded.ruleSet!;
  it('the running set is valid', () => expect(loaded.problems).toEqual([]));
  it.each([
    { name: 'a file that held rules reads blank: refused', blank: ['a.yaml'], want: ['a.yaml'] },
    { name: 'a file that held no rules reads blank: fine', blank: ['b.yaml'], want: [] },
    { name: 'no blank file (groups: [] is not blank): fine', blank: [], want: [] },
    { name: 'a new blank file: fine', blank: ['c.yaml'], want: [] },
  ])('$name', ({ blank, want }) => {
    expect(emptiedFiles(running, blank)).toEqual(want);
  });
  it('at the first load nothing is running: nothing to protect', () => {
    expect(emptiedFiles(null, ['a.yaml'])).toEqual([]);
  });
});
