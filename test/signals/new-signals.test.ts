/**
 * The signals of 2026-12 on hand-made agent_runs rows, numbers worked out by hand: duration (mean and
 * a quantile from the histogram), error_rate, tool_error_rate, tokens_per_run, score, metric, runs,
 * cost; absolute thresholds; attributes.KEY in where and group_by. AT = 2026-03-15T00:00:00Z, window
 * 7d, baseline the previous 7d (robust trimming off: rule() builds rules directly).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { base, cur, DAY, evaluate, resetRuns, rule, run, series, verdict, WEEK, type AgentRunRow } from '../helpers/runs.js';

let store: TempStore;
beforeAll(async () => {
  store = await openTempStore();
});
afterAll(async () => {
  await store?.ch.close();
});

const only = async (r: ReturnType<typeof rule>) => {
  const ev = await evaluate(store.ch, r);
  expect(ev.series).toHaveLength(1);
  return ev.series[0]!;
};

describe('duration', () => {
  // Baseline: 300 runs of 1000 ms. Current: 270 runs of 1000 ms and 30 runs of 10,000 ms.
  // Mean: 1000 -> (270,000 + 300,000) / 300 = 1900 (+90%). p50 stays 1000 (within the bucket's 9%).
  // p95: baseline 1000, current in the 10 s bucket.
  const rows: AgentRunRow[] = [
    ...Array.from({ length: 300 }, (_, i) => run({ ts: base(i % 7, 1 + (i % 20)), duration_ms: 1000 })),
    ...Array.from({ length: 270 }, (_, i) => run({ ts: cur(i % 7, 1 + (i % 20)), duration_ms: 1000 })),
    ...Array.from({ length: 30 }, (_, i) => run({ ts: cur(i % 7, 2), duration_ms: 10_000 })),
  ];
  beforeAll(async () => resetRuns(store.ch, rows));

  it('mean: run-weighted mean duration, Welch t', async () => {
    const s = await only(rule('duration', { threshold: 0.5 }));
    expect(s.current).toBeCloseTo(1900, 6);
    expect(s.baseline).toBeCloseTo(1000, 6);
    expect(s.test?.name).toBe('welch_t');
    expect(verdict(s)).toBe(true);
  });

  it.each([
    ['p50', 1000, false],
    ['p95', 10_000, true],
    ['p99', 10_000, true],
  ] as const)('%s from the histogram is within one bucket (9%%) of the true quantile', async (stat, expected, fires) => {
    const s = await only(rule('duration', { threshold: 0.5, options: { stat } }));
    expect(Math.abs(s.current! / expected - 1)).toBeLessThan(0.0906);
    expect(Math.abs(s.baseline! / 1000 - 1)).toBeLessThan(0.0906);
    expect(verdict(s)).toBe(fires);
  });

  it('a tail that moves is tested as the share of runs above the baseline quantile, not as a mean', async () => {
    const s = await only(rule('duration', { threshold: 0.5, significance: 0.05, options: { stat: 'p95' } }));
    expect(s.test?.name).toBe('share_above_baseline_p95');
    // 30 of 300 current runs above the baseline's p95 (inside the 1000 ms bucket, 5% of that bucket above it) against 5%.
    expect(s.test!.pValue).toBeLessThan(0.01);
  });
});

describe('error_rate and tool_error_rate', () => {
  // Baseline: 100 runs, 5 errors. Current: 100 runs, 15 errors and 5 timeouts.
  // Tool `search`: baseline 200 calls, 2 failed; current 200 calls, 20 failed.
  const rows: AgentRunRow[] = [
    ...Array.from({ length: 100 }, (_, i) =>
      run({ ts: base(i % 7), outcome: i < 5 ? 'error' : 'success', tool_calls: { search: 2 }, tool_errors: i < 2 ? { search: 1 } : {} }),
    ),
    ...Array.from({ length: 100 }, (_, i) =>
      run({ ts: cur(i % 7), outcome: i < 15 ? 'error' : i < 20 ? 'timeout' : 'success', tool_calls: { search: 2 }, tool_errors: i < 20 ? { search: 1 } : {} }),
    ),
  ];
  beforeAll(async () => resetRuns(store.ch, rows));

  it('default: every outcome but success', async () => {
    const s = await only(rule('error_rate', { threshold: 1 }));
    expect(s.current).toBeCloseTo(0.2, 10);
    expect(s.baseline).toBeCloseTo(0.05, 10);
    expect(s.test?.name).toBe('two_proportion_z');
    expect(s.contributors.map((c) => c.name)).toEqual(['error', 'timeout']);
    expect(verdict(s)).toBe(true);
  });

  it('outcome: [timeout] counts only those', async () => {
    const s = await only(rule('error_rate', { threshold: 1, options: { outcome: ['timeout'] } }));
    expect(s.current).toBeCloseTo(0.05, 10);
    expect(s.baseline).toBe(0);
    expect(s.isNew).toBe(true);
  });

  it('tool_error_rate: failed calls / calls per tool, delta-method ratio test over runs', async () => {
    const ev = await evaluate(store.ch, rule('tool_error_rate', { threshold: 1 }));
    const s = series(ev, { tool: 'search' });
    expect(s.current).toBeCloseTo(20 / 200, 10);
    expect(s.baseline).toBeCloseTo(2 / 200, 10);
    expect(s.test?.name).toBe('ratio_z_delta');
    expect(verdict(s)).toBe(true);
  });
});

describe('tokens_per_run, score, metric', () => {
  // Baseline: 50 runs of 100 in + 50 out, score judge 0.9 on half of them, metric m 10.
  // Current: 50 runs of 100 in + 150 out, score judge 0.6 on half, metric m 5; one late run has no score.
  const rows: AgentRunRow[] = [
    ...Array.from({ length: 50 }, (_, i) => run({ ts: base(i % 7), input_tokens: 100, output_tokens: 50, scores: i % 2 === 0 ? { judge: 0.9 } : {}, metrics: { m: 10 } })),
    ...Array.from({ length: 50 }, (_, i) => run({ ts: cur(i % 7), input_tokens: 100, output_tokens: 150, scores: i % 2 === 0 ? { judge: 0.6 } : {}, metrics: { m: 5 } })),
  ];
  beforeAll(async () => resetRuns(store.ch, rows));

  it.each([
    ['total', 250, 150],
    ['input', 100, 100],
    ['output', 150, 50],
  ] as const)('tokens: %s', async (tokens, current, baseline) => {
    const s = await only(rule('tokens_per_run', { options: { tokens } }));
    expect(s.current).toBeCloseTo(current, 10);
    expect(s.baseline).toBeCloseTo(baseline, 10);
  });

  it('score: mean over the runs that carry it; min_runs counts those runs', async () => {
    const s = await only(rule('score', { direction: 'down', options: { score: 'judge' } }));
    expect(s.current).toBeCloseTo(0.6, 10);
    expect(s.baseline).toBeCloseTo(0.9, 10);
    expect(s.currentRuns).toBe(25);
    expect(s.key).toBe('judge');
    expect(s.contributors[0]).toMatchObject({ name: 'scored_share', current: 0.5, baseline: 0.5 });
    expect(verdict(s)).toBe(true);
    expect(verdict(await only(rule('score', { direction: 'down', minRuns: 26, options: { score: 'judge' } })))).toBe('nodata');
  });

  it('metric: run-weighted mean of the custom value', async () => {
    const s = await only(rule('metric', { direction: 'down', options: { metric: 'm' } }));
    expect(s.current).toBeCloseTo(5, 10);
    expect(s.baseline).toBeCloseTo(10, 10);
    expect(verdict(s)).toBe(true);
  });

  it('a score nobody has is no data, not zero', async () => {
    const s = await only(rule('score', { options: { score: 'absent' } }));
    expect(s.current).toBeNull();
    expect(verdict(s)).toBe('nodata');
  });
});

describe('runs and cost: volumes scaled to the window', () => {
  // Tenant a: 70 runs in the 7-day baseline (10 a day), 20 in the last day, $0.50 a run.
  // Tenant b: 70 runs in the baseline, none in the current window (traffic stopped).
  const rows: AgentRunRow[] = [
    ...Array.from({ length: 70 }, (_, i) => run({ ts: base(i % 7), tenant_id: 'a', token_cost_usd: 0.4, tool_cost_usd: 0.1 })),
    ...Array.from({ length: 20 }, (_, i) => run({ ts: cur(6, 1 + (i % 10)), tenant_id: 'a', token_cost_usd: 0.4, tool_cost_usd: 0.1 })),
    ...Array.from({ length: 70 }, (_, i) => run({ ts: base(i % 7), tenant_id: 'b', token_cost_usd: 0.4 })),
  ];
  beforeAll(async () => resetRuns(store.ch, rows));
  // A day against the 7 days before it: the last day of the week [AT - 1d, AT) against [AT - 8d, AT - 1d).
  const daily = { windowMs: DAY, baseline: { kind: 'previous' as const, lengthMs: WEEK, offsetMs: 0 }, groupBy: ['tenant_id' as const] };

  it('runs: the current day against the daily average of the week before; a stop to zero is measured, not no data', async () => {
    const ev = await evaluate(store.ch, rule('runs', { ...daily, direction: 'both', threshold: 0.5 }));
    // cur(6, h) is in the last day; base(i) is in [AT - 14d, AT - 7d), so the [AT - 8d, AT - 1d) baseline holds 1/7 of them (day 0).
    const a = series(ev, { tenant_id: 'a' });
    expect(a.current).toBe(20);
    expect(a.baseline).toBeCloseTo(10 / 7, 10);
    const b = series(ev, { tenant_id: 'b' });
    expect(b.current).toBe(0);
    expect(b.deviation).toBe(-1);
    expect(verdict(b)).toBe(true);
    expect(b.test?.name).toBe('poisson_rate_z');
  });

  it('cost with an absolute threshold: the window\'s spend against a budget, no baseline needed', async () => {
    const r = rule('cost', { ...daily, threshold: 5, absolute: { bound: 'above', value: 5 }, minRuns: 100 });
    const ev = await evaluate(store.ch, r);
    const a = series(ev, { tenant_id: 'a' });
    expect(a.current).toBeCloseTo(10, 10);
    expect(verdict(a)).toBe(true);
    // min_runs does not apply to a volume against a budget; tenant b spent 0 today: under it.
    expect(verdict(series(ev, { tenant_id: 'b' }))).toBe(false);
  });

  it('runs below an absolute floor: traffic that stops fires', async () => {
    const ev = await evaluate(store.ch, rule('runs', { ...daily, threshold: 1, absolute: { bound: 'below', value: 1 }, direction: 'down' }));
    expect(verdict(series(ev, { tenant_id: 'b' }))).toBe(true);
    expect(verdict(series(ev, { tenant_id: 'a' }))).toBe(false);
  });
});

describe('attributes.KEY in where and group_by', () => {
  const rows: AgentRunRow[] = [
    ...Array.from({ length: 40 }, (_, i) => run({ ts: base(i % 7), attributes: { 'customer.tier': i % 2 ? 'gold' : 'free' }, metrics: { records: 10 } })),
    ...Array.from({ length: 40 }, (_, i) => run({ ts: cur(i % 7), attributes: { 'customer.tier': i % 2 ? 'gold' : 'free' }, metrics: { records: i % 2 ? 4 : 10 } })),
  ];
  beforeAll(async () => resetRuns(store.ch, rows));

  it('groups by an attribute under the label attributes_<key>', async () => {
    const ev = await evaluate(store.ch, rule('metric', { direction: 'down', groupBy: ['attributes.customer.tier'], options: { metric: 'records' } }));
    expect(ev.series.map((s) => s.labels)).toEqual([{ attributes_customer_tier: 'free' }, { attributes_customer_tier: 'gold' }]);
    expect(verdict(series(ev, { attributes_customer_tier: 'gold' }))).toBe(true);
    expect(verdict(series(ev, { attributes_customer_tier: 'free' }))).toBe(false);
  });

  it('filters on an attribute with a bound value', async () => {
    const ev = await evaluate(store.ch, rule('metric', { direction: 'down', where: { 'attributes.customer.tier': 'free' }, options: { metric: 'records' } }));
    expect(ev.series).toHaveLength(1);
    expect(ev.series[0]!.current).toBeCloseTo(10, 10);
  });
});
