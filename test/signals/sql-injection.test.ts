/**
 * Nothing a rule says reaches SQL as text: hostile column names are rejected by validation, hostile
 * values travel as bound parameters and match nothing. The table survives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPaths } from '../../src/rules/check.js';
import { parseRules } from '../../src/rules/load.js';
import { evaluateRule } from '../../src/engine/evaluate.js';
import { StoreSums } from '../../src/signals/sums.js';
import { qualified } from '../../src/store/schema.js';
import { groupColumns } from '../../src/signals/sql.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';

let store: TempStore;
const AT = Date.parse('2026-03-15T00:00:00Z');

beforeAll(async () => {
  store = await openTempStore();
  const rows = [];
  for (let i = 0; i < 40; i++) {
    rows.push({
      timestamp: new Date(AT - (i + 1) * 3_600_000 * 4).toISOString(),
      run_id: `r${i}`,
      workflow_id: 'x',
      environment: 'prod',
      outcome: 'success',
      tool_calls: { search: 1 },
    });
  }
  await store.ch.insert('agent_runs', rows);
});
afterAll(async () => {
  await store?.ch.close();
});

const ruleYaml = (extra: string) => `groups:
  - name: g
    interval: 5m
    rules:
      - alert: Hostile
        signal: tool_calls_per_run
        threshold: 20%
        min_runs: 1
${extra}`;

describe('SQL in rule files', () => {
  it('check rejects a column name carrying SQL, naming file:line:col', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-inject-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, ruleYaml('        group_by: ["workflow_id); DROP TABLE x"]\n        where: { "workflow_id = 1 OR 1=1 --": y }\n'));
    const r = await checkPaths([file]);
    expect(r.ok).toBe(false);
    const lines = r.output.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:9:\\d+: group_by: unknown column`));
    expect(lines[1]).toMatch(/:10:\d+: where: unknown column/);
  });

  it('the SQL builder refuses identifiers outside the contract even if validation were bypassed', () => {
    expect(() => groupColumns({ groupBy: ['workflow_id); DROP TABLE x' as never] })).toThrow(/not in the contract/);
  });

  it.each([
    ["x' OR 1=1", 0],
    ["x'; DROP TABLE agent_runs; --", 0],
    ['x\\', 0],
    ['%', 0], // LIKE wildcard in an exact value: plain text
    ['x', 40],
  ])('a hostile where value %j is a plain value (matches %i runs) and the table survives', async (value, expectedRuns) => {
    const { ruleSet, problems } = parseRules([{ file: 'v.yaml', text: ruleYaml(`        where: { workflow_id: ${JSON.stringify(value)} }\n        group_by: [workflow_id]\n`) }]);
    expect(problems).toEqual([]);
    const rule = ruleSet!.groups[0]!.rules[0]!;
    const ev = await evaluateRule(new StoreSums({ query: (sql, params) => store.ch.query(sql, params), table: qualified('default', 'agent_runs') }).reader(), rule, AT);
    expect(ev.error).toBeNull();
    const runs = ev.series.reduce((n, s) => Math.max(n, s.currentRuns), 0);
    expect(runs).toBe(expectedRuns);
    const [count] = await store.ch.query<{ n: number }>('SELECT count() AS n FROM agent_runs');
    expect(Number(count!.n)).toBe(40);
  });

  it('a glob escapes LIKE metacharacters in its literal part', async () => {
    const { ruleSet } = parseRules([{ file: 'g.yaml', text: ruleYaml(`        where: { workflow_id: "_*" }\n`) }]);
    const ev = await evaluateRule(new StoreSums({ query: (sql, params) => store.ch.query(sql, params), table: qualified('default', 'agent_runs') }).reader(), ruleSet!.groups[0]!.rules[0]!, AT);
    // "_*" means: starts with a literal underscore. "x" does not.
    expect(ev.series.every((s) => s.currentRuns === 0)).toBe(true);
  });
});
