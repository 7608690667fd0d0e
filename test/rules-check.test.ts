import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPaths } from '../src/rules/check.js';

const FIX = 'test/fixtures/rules';

describe('checkPaths (agentdrift check)', () => {
  it.each([
    [['rules'], 'SUCCESS: 1 file, 2 groups, 8 rules'],
    [[`${FIX}/dir`], 'SUCCESS: 2 files, 2 groups, 3 rules'],
    [[`${FIX}/example.yaml`, `${FIX}/dir`], 'SUCCESS: 3 files, 3 groups, 4 rules'],
    [[], 'SUCCESS: 0 files, 0 groups, 0 rules'],
  ])('%j -> %s', async (paths, summary) => {
    expect(await checkPaths(paths)).toEqual({ ok: true, output: summary });
  });

  it('prints every problem of every path, one per line, sorted by file then line, and no summary', async () => {
    const { ok, output } = await checkPaths([`${FIX}/syntax.yaml`, `${FIX}/nope`, `${FIX}/many-errors.yaml`, `${FIX}/dup`]);
    expect(ok).toBe(false);
    const lines = output.split('\n');
    expect(lines).toHaveLength(26 + 1 + 1 + 2);
    for (const l of lines) expect(l).toMatch(/^[^:]+:\d+:\d+: \S/);
    const keys = lines.map((l) => {
      const [file, line] = l.split(':');
      return [file!, Number(line)] as const;
    });
    const sorted = [...keys].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    expect(keys).toEqual(sorted);
    expect(lines).toContain(`${FIX}/nope:1:1: no such file or directory`);
    expect(lines).toContain(`${FIX}/syntax.yaml:7:1: YAML: Sequence item without - indicator`);
    expect(lines.filter((l) => l.startsWith(path.join(FIX, 'dup')))).toHaveLength(2);
    expect(output).not.toMatch(/SUCCESS/);
  });
});
