/**
 * cost_per_success on hand-made agent_runs rows, numbers worked out by hand. AT =
 * 2026-03-15T00:00:00Z, window 7d, baseline the previous 7d.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { base, cur, evaluate, resetRuns, rule, run, verdict, type AgentRunRow } from '../helpers/runs.js';

let store: TempStore;
beforeAll(async () => {
  store = await openTempStore();
});
afterAll(async () => {
  await store?.ch.close();
});

const costRule = (over: Parameters<typeof rule>[1] = {}) => rule('cost_per_success', over);
const only = async (over: Parameters<typeof rule>[1] = {}) => {
  const ev = await evaluate(store.ch, costRule(over));
  expect(ev.series).toHaveLength(1);
  return ev.series[0]!;
};

/**
 * current:  success  token 0.10 tool 0.05      baseline: success  token 0.10 tool 0.02
 *           success  token 0.20 tool 0.00                success  token 0.10 tool 0.02
 *           failure  token 0.30 tool 0.10                success  token 0.15 tool 0.01
 *           error    token 0.10 tool 0.05                failure  token 0.05 tool 0.00
 * current:  token 0.70, tool 0.20, total 0.90, 2 successes of 4 runs
 * baseline: token 0.40, tool 0.05, total 0.45, 3 successes of 4 runs
 */
const DATA: AgentRunRow[] = [
  run({ ts: cur(0), outcome: 'success', token_cost_usd: 0.1, tool_cost_usd: 0.05 }),
  run({ ts: cur(1), outcome: 'success', token_cost_usd: 0.2, tool_cost_usd: 0 }),
  run({ ts: cur(2), outcome: 'failure', token_cost_usd: 0.3, tool_cost_usd: 0.1 }),
  run({ ts: cur(3), outcome: 'error', token_cost_usd: 0.1, tool_cost_usd: 0.05 }),
  run({ ts: base(0), outcome: 'success', token_cost_usd: 0.1, tool_cost_usd: 0.02 }),
  run({ ts: base(1), outcome: 'success', token_cost_usd: 0.1, tool_cost_usd: 0.02 }),
  run({ ts: base(2), outcome: 'success', token_cost_usd: 0.15, tool_cost_usd: 0.01 }),
  run({ ts: base(3), outcome: 'failure', token_cost_usd: 0.05, tool_cost_usd: 0 }),
];

describe('cost_per_success', () => {
  beforeAll(async () => {
    await resetRuns(store.ch, DATA);
  });

  it('total: sum(token + tool) over ALL runs / successful runs (failed runs cost in the numerator)', async () => {
    const s = await only({ threshold: 1.0 });
    // current: (0.15 + 0.20 + 0.40 + 0.15) / 2 successes = 0.90 / 2 = 0.45
    //   (successful runs only would give (0.15 + 0.20) / 2 = 0.175)
    // baseline: (0.12 + 0.12 + 0.16 + 0.05) / 3 = 0.45 / 3 = 0.15
    // deviation = 0.45 / 0.15 - 1 = 2.0
    expect(s.current).toBeCloseTo(0.45, 10);
    expect(s.baseline).toBeCloseTo(0.15, 10);
    expect(s.deviation).toBeCloseTo(2.0, 8);
    expect(s.currentRuns).toBe(4);
    expect(s.baselineRuns).toBe(4);
    expect(s.isNew).toBe(false);
    expect(verdict(s)).toBe(true);
    expect(s.test?.name).toBe('ratio_z_delta');
    // Example runs are not the signal's: they are fetched after the verdict, for pending and firing series only.
    expect(s.exampleRunIds).toEqual([]);
  });

  it('contributors: token and tool cost per success, and the success rate', async () => {
    const s = await only();
    const byName = Object.fromEntries(s.contributors.map((c) => [c.name, c]));
    expect(Object.keys(byName)).toEqual(['token_cost_per_success_usd', 'tool_cost_per_success_usd', 'success_rate']);
    // token per success: current 0.70 / 2 = 0.35; baseline 0.40 / 3 = 0.1333333
    expect(byName.token_cost_per_success_usd!.current).toBeCloseTo(0.35, 10);
    expect(byName.token_cost_per_success_usd!.baseline).toBeCloseTo(0.1333333, 6);
    // tool per success: current 0.20 / 2 = 0.10; baseline 0.05 / 3 = 0.0166667
    expect(byName.tool_cost_per_success_usd!.current).toBeCloseTo(0.1, 10);
    expect(byName.tool_cost_per_success_usd!.baseline).toBeCloseTo(0.0166667, 6);
    // success rate: current 2 / 4 = 0.5; baseline 3 / 4 = 0.75
    expect(byName.success_rate!.current).toBeCloseTo(0.5, 10);
    expect(byName.success_rate!.baseline).toBeCloseTo(0.75, 10);
  });

  it('cost: token and cost: tool sum one component only', async () => {
    const token = await only({ options: { cost: 'token' } });
    // token: current 0.70 / 2 = 0.35; baseline 0.40 / 3 = 0.1333333; deviation = 0.35 / 0.1333333 - 1 = 1.625
    expect(token.current).toBeCloseTo(0.35, 10);
    expect(token.baseline).toBeCloseTo(0.1333333, 6);
    expect(token.deviation).toBeCloseTo(1.625, 8);

    const tool = await only({ options: { cost: 'tool' } });
    // tool: current 0.20 / 2 = 0.10; baseline 0.05 / 3 = 0.0166667; deviation = 0.10 / 0.0166667 - 1 = 5.0
    expect(tool.current).toBeCloseTo(0.1, 10);
    expect(tool.baseline).toBeCloseTo(0.0166667, 6);
    expect(tool.deviation).toBeCloseTo(5.0, 8);

    // total, explicitly: the same as the default
    const total = await only({ options: { cost: 'total' } });
    expect(total.current).toBeCloseTo(0.45, 10);
  });
});

describe('cost_per_success without successes', () => {
  it('zero successes in the current window -> current null, nodata', async () => {
    await resetRuns(store.ch, [
      run({ ts: cur(0), outcome: 'failure', token_cost_usd: 0.3 }),
      run({ ts: cur(1), outcome: 'error', token_cost_usd: 0.2 }),
      // only the exact word `success` counts
      run({ ts: cur(2), outcome: 'Success', token_cost_usd: 0.1 }),
      run({ ts: cur(3), outcome: 'succeeded', token_cost_usd: 0.1 }),
      run({ ts: base(0), outcome: 'success', token_cost_usd: 0.1 }),
      run({ ts: base(1), outcome: 'success', token_cost_usd: 0.1 }),
    ]);
    const s = await only();
    // current: 0.70 / 0 successes: undefined; baseline: 0.20 / 2 = 0.10
    expect(s.current).toBeNull();
    expect(s.baseline).toBeCloseTo(0.1, 10);
    expect(s.deviation).toBeNull();
    expect(s.currentRuns).toBe(4);
    expect(s.test).toBeNull();
    expect(verdict(s)).toBe('nodata');
    const rate = s.contributors.find((c) => c.name === 'success_rate')!;
    // success rate: current 0 / 4 = 0; baseline 2 / 2 = 1
    expect(rate.current).toBe(0);
    expect(rate.baseline).toBeCloseTo(1, 10);
  });

  it('zero successes in the baseline -> baseline null, nodata', async () => {
    await resetRuns(store.ch, [
      run({ ts: cur(0), outcome: 'success', token_cost_usd: 0.1 }),
      run({ ts: base(0), outcome: 'failure', token_cost_usd: 0.1 }),
    ]);
    const s = await only();
    // current: 0.10 / 1 = 0.10; baseline: 0.10 / 0: undefined
    expect(s.current).toBeCloseTo(0.1, 10);
    expect(s.baseline).toBeNull();
    expect(verdict(s)).toBe('nodata');
  });
});

describe('cost_per_success: certain cases', () => {
  it('the same cost in every run, every run a success: 0.20 vs 0.10 is certain (p = 0), 0.10 vs 0.10 is no change (p = 1)', async () => {
    await resetRuns(store.ch, [
      ...[0, 1, 2].map((d) => run({ ts: cur(d), outcome: 'success', token_cost_usd: 0.2 })),
      ...[0, 1, 2].map((d) => run({ ts: base(d), outcome: 'success', token_cost_usd: 0.1 })),
    ]);
    const s = await only({ threshold: 0.2, significance: 0.001 });
    // current 0.60 / 3 = 0.20, baseline 0.30 / 3 = 0.10: deviation +100%; cost − R·success = 0 in every run
    expect(s.deviation).toBeCloseTo(1.0, 10);
    expect(s.test).toEqual({ name: 'ratio_z_delta', statistic: Number.POSITIVE_INFINITY, pValue: 0 });
    expect(verdict(s)).toBe(true);

    await resetRuns(store.ch, [
      ...[0, 1, 2].map((d) => run({ ts: cur(d), outcome: 'success', token_cost_usd: 0.1 })),
      ...[0, 1].map((d) => run({ ts: base(d), outcome: 'success', token_cost_usd: 0.1 })),
    ]);
    const same = await only({ threshold: 0.2, significance: 0.001 });
    expect(same.test).toEqual({ name: 'ratio_z_delta', statistic: 0, pValue: 1 });
    expect(verdict(same)).toBe(false);
  });
});
