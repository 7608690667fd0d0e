/**
 * tool_calls_per_run on hand-made agent_runs rows. Every expected number is worked out by hand in a
 * comment next to its assertion. Evaluation time AT = 2026-03-15T00:00:00Z, window 7d, baseline the
 * previous 7d: current [Mar 8, Mar 15), baseline [Mar 1, Mar 8).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { signalQueries } from '../../src/signals/aggregateQuery.js';
import { PAIR_SEPARATOR } from '../../src/store/aggregates.js';
import { windowsFor } from '../../src/signals/windows.js';
import { AT, DAY, TABLE, WEEK, base, cur, evaluate, resetRuns, rule, run, series, verdict, weeksBack } from '../helpers/runs.js';

let store: TempStore;
beforeAll(async () => {
  store = await openTempStore();
});
afterAll(async () => {
  await store?.ch.close();
});

const toolRule = (over: Parameters<typeof rule>[1] = {}) => rule('tool_calls_per_run', over);

describe('tool_calls_per_run: per-tool calls per run', () => {
  it('is run-weighted: runs that did not call the tool count in the denominator', async () => {
    await resetRuns(store.ch, [
      run({ ts: cur(0), tool_calls: { search: 2, enrich: 2 } }),
      run({ ts: cur(1), tool_calls: { search: 2 } }),
      run({ ts: cur(2), tool_calls: { search: 1 } }),
      run({ ts: cur(3), tool_calls: { search: 3 } }),
      run({ ts: base(0), tool_calls: { search: 1 } }),
      run({ ts: base(1), tool_calls: { search: 1, enrich: 1 } }),
      run({ ts: base(2), tool_calls: { search: 1, enrich: 1 } }),
      run({ ts: base(3), tool_calls: { search: 2 } }),
    ]);
    const ev = await evaluate(store.ch, toolRule({ threshold: 0.2, direction: 'up' }));
    // 2 tools + the __mix__ row, one group (no group_by)
    expect(ev.series).toHaveLength(3);

    const search = series(ev, { tool: 'search' });
    // current: (2+2+1+3) calls / 4 runs = 2.0; baseline: (1+1+1+2) / 4 = 1.25; deviation = 2.0/1.25 - 1 = 0.6
    expect(search.current).toBeCloseTo(2.0, 10);
    expect(search.baseline).toBeCloseTo(1.25, 10);
    expect(search.deviation).toBeCloseTo(0.6, 10);
    expect(search.isNew).toBe(false);
    expect(search.currentRuns).toBe(4);
    expect(search.baselineRuns).toBe(4);
    expect(search.key).toBe('search');
    expect(verdict(search)).toBe(true); // 0.6 >= 0.2, up
    // Welch on per-run counts: current [2,2,1,3] mean 2, s² = (0+0+1+1)/3 = 2/3;
    // baseline [1,1,1,2] mean 1.25, s² = (3·0.0625 + 0.5625)/3 = 0.25.
    // se² = (2/3)/4 + 0.25/4 = 0.2291667; t = 0.75 / sqrt(0.2291667) = 1.566699
    // df = 1 / ((0.1666667/0.2291667)²/3 + (0.0625/0.2291667)²/3) = 1 / ((0.727273² + 0.272727²)/3) = 4.972603
    expect(search.test?.name).toBe('welch_t');
    expect(search.test?.statistic).toBeCloseTo(1.566699, 5);
    expect(search.test?.df).toBeCloseTo(4.972603, 5);

    const enrich = series(ev, { tool: 'enrich' });
    // current: 2 calls / 4 runs = 0.5 (not 2/1 = 2.0 over the calling runs only);
    // baseline: (1+1) / 4 = 0.5; deviation = 0.5/0.5 - 1 = 0
    expect(enrich.current).toBeCloseTo(0.5, 10);
    expect(enrich.baseline).toBeCloseTo(0.5, 10);
    expect(enrich.deviation).toBeCloseTo(0, 10);
    expect(enrich.currentRuns).toBe(4);
    expect(verdict(enrich)).toBe(false);
    // Welch with the non-calling runs as zeros: current [2,0,0,0] s² = (4 - 4·0.25)/3 = 1, baseline [0,1,1,0]
    // s² = (2 - 4·0.25)/3 = 1/3. Equal means -> t = 0; va = 1/4, vb = 1/12, se² = 1/3, shares 0.75 / 0.25:
    // df = 1 / ((0.5625 + 0.0625)/3) = 4.8 (only n = 4 on both sides gives this)
    expect(enrich.test?.statistic).toBeCloseTo(0, 10);
    expect(enrich.test?.df).toBeCloseTo(4.8, 6);
    // Example runs are not the signal's: they are fetched after the verdict, for pending and firing series only.
    expect(enrich.exampleRunIds).toEqual([]);
  });

  it('a tool present only in the current window is new: baseline 0, fires going up, not down', async () => {
    await resetRuns(store.ch, [
      run({ ts: cur(0), tool_calls: { search: 1, refund: 2 } }),
      run({ ts: cur(1), tool_calls: { search: 1 } }),
      run({ ts: cur(2), tool_calls: { search: 1, refund: 1 } }),
      run({ ts: cur(3), tool_calls: { search: 1 } }),
      ...[0, 1, 2, 3].map((d) => run({ ts: base(d), tool_calls: { search: 1 } })),
    ]);
    for (const [direction, fires] of [['up', true], ['both', true], ['down', false]] as const) {
      const ev = await evaluate(store.ch, toolRule({ threshold: 0.5, direction }));
      const refund = series(ev, { tool: 'refund' });
      // current: (2+0+1+0) / 4 = 0.75; baseline: 0 / 4 = 0 -> relative deviation undefined, isNew
      expect(refund.current).toBeCloseTo(0.75, 10);
      expect(refund.baseline).toBe(0);
      expect(refund.deviation).toBeNull();
      expect(refund.isNew).toBe(true);
      expect(refund.baselineRuns).toBe(4);
      expect(verdict(refund), direction).toBe(fires);
      // search: 4/4 = 1.0 both windows, deviation 0: never fires
      const search = series(ev, { tool: 'search' });
      expect(search.deviation).toBeCloseTo(0, 10);
      expect(verdict(search)).toBe(false);
    }
  });

  it('a tool present only in the baseline drops to 0: deviation -1, fires going down, not up', async () => {
    await resetRuns(store.ch, [
      ...[0, 1, 2, 3].map((d) => run({ ts: cur(d), tool_calls: { search: 1 } })),
      run({ ts: base(0), tool_calls: { search: 1, legacy_lookup: 1 } }),
      run({ ts: base(1), tool_calls: { search: 1, legacy_lookup: 2 } }),
      run({ ts: base(2), tool_calls: { search: 1 } }),
      run({ ts: base(3), tool_calls: { search: 1 } }),
    ]);
    for (const [direction, fires] of [['down', true], ['both', true], ['up', false]] as const) {
      const ev = await evaluate(store.ch, toolRule({ threshold: 0.5, direction }));
      const legacy = series(ev, { tool: 'legacy_lookup' });
      // current: 0 / 4 = 0; baseline: (1+2) / 4 = 0.75; deviation = 0/0.75 - 1 = -1
      expect(legacy.current).toBe(0);
      expect(legacy.baseline).toBeCloseTo(0.75, 10);
      expect(legacy.deviation).toBeCloseTo(-1, 10);
      expect(legacy.isNew).toBe(false);
      expect(legacy.currentRuns).toBe(4);
      expect(verdict(legacy), direction).toBe(fires);
    }
  });
});

describe('tool_calls_per_run: the tool mix (__mix__)', () => {
  it('is the Jensen-Shannon distance between the call distributions; a mix no run deviates from is a certain change', async () => {
    await resetRuns(store.ch, [
      run({ ts: cur(0), tool_calls: { a: 1, b: 1 } }),
      run({ ts: cur(1), tool_calls: { a: 1, b: 1 } }),
      run({ ts: base(0), tool_calls: { a: 1 } }),
      run({ ts: base(1), tool_calls: { a: 1 } }),
    ]);
    const ev = await evaluate(store.ch, toolRule({ threshold: 0.5 }));
    const mix = series(ev, { tool: '__mix__' });
    // calls: current a 2, b 2 -> P = (1/2, 1/2); baseline a 2 -> Q = (1, 0); M = (P+Q)/2 = (3/4, 1/4)
    // KL(P||M) = 1/2 log2((1/2)/(3/4)) + 1/2 log2((1/2)/(1/4)) = 1/2 (-0.5849625) + 1/2 (1) = 0.2075187
    // KL(Q||M) = 1 log2(1/(3/4)) = 0.4150375
    // JSD = 1/2 KL(P||M) + 1/2 KL(Q||M) = 0.3112781 bits; distance = sqrt(0.3112781) = 0.5579230
    expect(mix.key).toBe('__mix__');
    expect(mix.current).toBeCloseTo(0.557923, 6);
    expect(mix.deviation).toBeCloseTo(0.557923, 6);
    expect(mix.baseline).toBe(0);
    expect(mix.currentRuns).toBe(2);
    expect(mix.baselineRuns).toBe(2);
    // effect size >= threshold 0.5 fires
    expect(verdict(mix)).toBe(true);
    // The test is on runs (Rao-Scott): every current run is exactly {a:1, b:1} and every baseline run
    // exactly {a:1}, so no run deviates from its window's shares (design effect 0): the shares are
    // exact and differ, p = 0. (Pearson on the 2x2 call table [[2,2],[2,0]] would say X² = 1.5, p = 0.22.)
    expect(mix.test?.name).toBe('rao_scott_chi_square');
    expect(mix.test?.statistic).toBe(Number.POSITIVE_INFINITY);
    expect(mix.test?.pValue).toBe(0);
    expect(mix.test?.df).toBe(1);
    expect(mix.test?.designEffect).toBe(0);

    // the same distance is below a 0.6 threshold
    const higher = await evaluate(store.ch, toolRule({ threshold: 0.6 }));
    expect(verdict(series(higher, { tool: '__mix__' }))).toBe(false);
  });

  it('is 0 for identical mixes, and nothing fires', async () => {
    await resetRuns(store.ch, [
      run({ ts: cur(0), tool_calls: { a: 2, b: 1 } }),
      run({ ts: cur(1), tool_calls: { a: 2, b: 1 } }),
      run({ ts: base(0), tool_calls: { a: 2, b: 1 } }),
      run({ ts: base(1), tool_calls: { a: 4, b: 2 } }),
    ]);
    const ev = await evaluate(store.ch, toolRule({ threshold: 0.1, direction: 'both', significance: 0.05 }));
    // current a 4, b 2 -> (2/3, 1/3); baseline a 6, b 3 -> (2/3, 1/3): JSD = 0
    const mix = series(ev, { tool: '__mix__' });
    expect(mix.current).toBeCloseTo(0, 12);
    // every run has the shares (2/3, 1/3): certainly the same mix, X² = 0, p = 1
    expect(mix.test?.statistic).toBe(0);
    expect(mix.test?.pValue).toBe(1);
    // a: 4/2 = 2.0 vs 6/2 = 3.0 (-33%); b: 2/2 = 1.0 vs 3/2 = 1.5 (-33%)
    expect(series(ev, { tool: 'a' }).current).toBeCloseTo(2, 10);
    expect(series(ev, { tool: 'a' }).baseline).toBeCloseTo(3, 10);
    expect(series(ev, { tool: 'b' }).deviation).toBeCloseTo(-1 / 3, 10);
    expect(ev.series.map(verdict)).toEqual([false, false, false]);
  });

  it('returns the per-run sums the test needs (hand-checked) and tests runs, not calls', async () => {
    // current (4 runs): {a:2, b:1}, {a:1, c:1}, {a:3}, {b:2, c:1}    m (calls of the run) = 3, 2, 3, 3
    // baseline (3 runs): {a:1, b:1, c:1}, {a:2}, {b:1}                 m = 3, 2, 1
    await resetRuns(store.ch, [
      run({ ts: cur(0), tool_calls: { a: 2, b: 1 } }),
      run({ ts: cur(1), tool_calls: { a: 1, c: 1 } }),
      run({ ts: cur(2), tool_calls: { a: 3 } }),
      run({ ts: cur(3), tool_calls: { b: 2, c: 1 } }),
      run({ ts: base(0), tool_calls: { a: 1, b: 1, c: 1 } }),
      run({ ts: base(1), tool_calls: { a: 2 } }),
      run({ ts: base(2), tool_calls: { b: 1 } }),
    ]);
    const r = toolRule();
    const queries = signalQueries(r, TABLE, windowsFor(r.windowMs, r.baseline, AT), null);
    const [runRows, keyedRows] = await Promise.all([queries.totals, queries.keyed].map((q) => store.ch.query<Record<string, unknown>>(q.sql, q.params)));
    const byW = (rows: Record<string, unknown>[] | undefined, key: (x: Record<string, unknown>) => string) =>
      Object.fromEntries((rows ?? []).map((x) => [`${Number(x.w)}:${key(x)}`, x]));
    // The keyed sums: per tool value = Σc, value_sq = Σc², value_x_total = Σc·m; per pair value = Σc_a·c_b.
    const toolRows = keyedRows!.filter((x) => x.key_kind === 'tool').map((x) => ({ ...x, tool: x.key, calls: x.value, calls_sq: x.value_sq, calls_x_total: x.value_x_total }));
    const pairRows = keyedRows!.filter((x) => x.key_kind === 'pair').map((x) => {
      const [a, b] = String(x.key).split(PAIR_SEPARATOR);
      return { ...x, tool_a: a, tool_b: b, calls_product: x.value };
    });
    // per window: runs, Σm, Σm²: current 4, 3+2+3+3 = 11, 9+4+9+9 = 31; baseline 3, 3+2+1 = 6, 9+4+1 = 14
    const runsBy = byW(runRows, () => '');
    expect([0, 1].map((w) => [runsBy[`${w}:`]!.runs, runsBy[`${w}:`]!.calls, runsBy[`${w}:`]!.calls_sq].map(Number))).toEqual([
      [4, 11, 31],
      [3, 6, 14],
    ]);
    // per tool: Σc, Σc², Σc·m
    //   current  a: 2+1+3 = 6, 4+1+9 = 14, 2·3 + 1·2 + 3·3 = 17;  b: 3, 1+4 = 5, 1·3 + 2·3 = 9;  c: 2, 2, 1·2 + 1·3 = 5
    //   baseline a: 1+2 = 3, 1+4 = 5, 1·3 + 2·2 = 7;             b: 2, 2, 1·3 + 1·1 = 4;       c: 1, 1, 1·3 = 3
    const toolsBy = byW(toolRows, (x) => String(x.tool));
    const sums = (w: number, t: string) => ['calls', 'calls_sq', 'calls_x_total'].map((k) => Number(toolsBy[`${w}:${t}`]![k]));
    expect(sums(0, 'a')).toEqual([6, 14, 17]);
    expect(sums(0, 'b')).toEqual([3, 5, 9]);
    expect(sums(0, 'c')).toEqual([2, 2, 5]);
    expect(sums(1, 'a')).toEqual([3, 5, 7]);
    expect(sums(1, 'b')).toEqual([2, 2, 4]);
    expect(sums(1, 'c')).toEqual([1, 1, 3]);
    // per pair of tools in the same run, Σ c_a·c_b: current a·b 2·1 = 2, a·c 1·1 = 1, b·c 2·1 = 2;
    // baseline a·b 1, a·c 1, b·c 1 (the first run only). Check: Σc·m = Σc² + Σ over the other tools,
    // e.g. current a: 14 + 2 + 1 = 17.
    const pairsBy = byW(pairRows, (x) => `${String(x.tool_a)}${String(x.tool_b)}`);
    expect(Object.keys(pairsBy).sort()).toEqual(['0:ab', '0:ac', '0:bc', '1:ab', '1:ac', '1:bc']);
    expect(['0:ab', '0:ac', '0:bc', '1:ab', '1:ac', '1:bc'].map((k) => Number(pairsBy[k]!.calls_product))).toEqual([2, 1, 2, 1, 1, 1]);

    const mix = series(await evaluate(store.ch, r), { tool: '__mix__' });
    // From those sums, numpy on the per-run call matrices (see stats.tests: the same runs):
    //   Pearson X² on calls [[6,3,2],[3,2,1]] = 0.0686869; Rao-Scott X²ₛ = 0.0460555 on df 1.5574832,
    //   p = 0.9432875; mean design effect tr(A)/2 = 1.1614102.
    expect(mix.test?.name).toBe('rao_scott_chi_square');
    expect(mix.test?.statistic).toBeCloseTo(0.046055493779041515, 10);
    expect(mix.test?.df).toBeCloseTo(1.5574832094896471, 10);
    expect(mix.test?.pValue).toBeCloseTo(0.9432875184616187, 10);
    expect(mix.test?.designEffect).toBeCloseTo(1.1614102457077662, 10);
  });
});

describe('tool_calls_per_run: a certain change is significant', () => {
  it('a tool called exactly once per run, then exactly twice: p = 0, and a rule with significance fires', async () => {
    await resetRuns(store.ch, [
      ...[0, 1, 2, 3, 4].map((d) => run({ ts: cur(d), tool_calls: { search: 1, enrich: 2 } })),
      ...[0, 1, 2, 3, 4].map((d) => run({ ts: base(d), tool_calls: { search: 1, enrich: 1 } })),
    ]);
    const ev = await evaluate(store.ch, toolRule({ threshold: 0.2, direction: 'up', significance: 0.001 }));
    const enrich = series(ev, { tool: 'enrich' });
    // 2.0 vs 1.0 per run in every run: no variance on either side, the means are exact
    expect(enrich.deviation).toBeCloseTo(1.0, 10);
    expect(enrich.test).toEqual({ name: 'welch_t', statistic: Number.POSITIVE_INFINITY, pValue: 0 });
    // Holm over enrich, search and the mix: 0 stays 0
    expect(enrich.pValue).toBe(0);
    expect(verdict(enrich)).toBe(true);
    // search: exactly 1 per run in both windows: certainly no change
    const search = series(ev, { tool: 'search' });
    expect(search.test?.statistic).toBe(0);
    expect(search.test?.pValue).toBe(1);
    expect(verdict(search)).toBe(false);
    // the mix: every run 1/3 search, 2/3 enrich now, 1/2 and 1/2 before: a certain change too
    const mix = series(ev, { tool: '__mix__' });
    expect(mix.test?.pValue).toBe(0);
  });
});

describe('tool_calls_per_run: groups, min_runs and filters', () => {
  it('group_by workflow_id gives one series per workflow and tool', async () => {
    await resetRuns(store.ch, [
      run({ ts: cur(0), workflow_id: 'wf_a', tool_calls: { search: 1 } }),
      run({ ts: cur(1), workflow_id: 'wf_a', tool_calls: { search: 3 } }),
      run({ ts: base(0), workflow_id: 'wf_a', tool_calls: { search: 1 } }),
      run({ ts: base(1), workflow_id: 'wf_a', tool_calls: { search: 1 } }),
      run({ ts: cur(0), workflow_id: 'wf_b', tool_calls: { search: 1 } }),
      run({ ts: cur(1), workflow_id: 'wf_b', tool_calls: { search: 1 } }),
      run({ ts: cur(2), workflow_id: 'wf_b', tool_calls: { search: 1 } }),
      run({ ts: base(0), workflow_id: 'wf_b', tool_calls: { search: 2 } }),
      run({ ts: base(1), workflow_id: 'wf_b', tool_calls: { search: 2 } }),
    ]);
    const ev = await evaluate(store.ch, toolRule({ groupBy: ['workflow_id'], threshold: 0.2, direction: 'up' }));
    // 2 workflows x (search + __mix__)
    expect(ev.series).toHaveLength(4);
    const a = series(ev, { workflow_id: 'wf_a', tool: 'search' });
    // wf_a: current (1+3)/2 = 2.0; baseline (1+1)/2 = 1.0; deviation = 2.0/1.0 - 1 = 1.0
    expect(a.labels).toEqual({ workflow_id: 'wf_a', tool: 'search' });
    expect(a.current).toBeCloseTo(2.0, 10);
    expect(a.baseline).toBeCloseTo(1.0, 10);
    expect(a.deviation).toBeCloseTo(1.0, 10);
    expect(a.currentRuns).toBe(2);
    expect(verdict(a)).toBe(true);
    const b = series(ev, { workflow_id: 'wf_b', tool: 'search' });
    // wf_b: current (1+1+1)/3 = 1.0; baseline (2+2)/2 = 2.0; deviation = 1.0/2.0 - 1 = -0.5 (down: no alert on `up`)
    expect(b.current).toBeCloseTo(1.0, 10);
    expect(b.baseline).toBeCloseTo(2.0, 10);
    expect(b.deviation).toBeCloseTo(-0.5, 10);
    expect(b.currentRuns).toBe(3);
    expect(b.baselineRuns).toBe(2);
    expect(verdict(b)).toBe(false);
    expect(series(ev, { workflow_id: 'wf_b', tool: '__mix__' }).current).toBeCloseTo(0, 12);
  });

  it('a group below min_runs in either window is nodata; a group with enough runs is evaluated', async () => {
    await resetRuns(store.ch, [
      // big: 3 current, 3 baseline runs
      ...[0, 1, 2].map((d) => run({ ts: cur(d), workflow_id: 'big', tool_calls: { search: 2 } })),
      ...[0, 1, 2].map((d) => run({ ts: base(d), workflow_id: 'big', tool_calls: { search: 1 } })),
      // small_now: 2 current, 3 baseline runs
      ...[0, 1].map((d) => run({ ts: cur(d), workflow_id: 'small_now', tool_calls: { search: 2 } })),
      ...[0, 1, 2].map((d) => run({ ts: base(d), workflow_id: 'small_now', tool_calls: { search: 1 } })),
      // small_before: 3 current, 2 baseline runs
      ...[0, 1, 2].map((d) => run({ ts: cur(d), workflow_id: 'small_before', tool_calls: { search: 2 } })),
      ...[0, 1].map((d) => run({ ts: base(d), workflow_id: 'small_before', tool_calls: { search: 1 } })),
      // only_now: no baseline at all
      ...[0, 1, 2].map((d) => run({ ts: cur(d), workflow_id: 'only_now', tool_calls: { search: 2 } })),
    ]);
    const ev = await evaluate(store.ch, toolRule({ groupBy: ['workflow_id'], minRuns: 3, threshold: 0.2 }));
    // every group: search 2.0 vs 1.0 = +100%, but only `big` has >= 3 runs in both windows
    const big = series(ev, { workflow_id: 'big', tool: 'search' });
    expect(big.deviation).toBeCloseTo(1.0, 10);
    expect(verdict(big)).toBe(true);
    for (const wf of ['small_now', 'small_before', 'only_now']) {
      for (const tool of ['search', '__mix__']) expect(verdict(series(ev, { workflow_id: wf, tool })), `${wf}/${tool}`).toBe('nodata');
    }
    const onlyNow = series(ev, { workflow_id: 'only_now', tool: 'search' });
    expect(onlyNow.baseline).toBeNull();
    expect(onlyNow.baselineRuns).toBe(0);
    expect(series(ev, { workflow_id: 'small_now', tool: 'search' }).currentRuns).toBe(2);
    expect(series(ev, { workflow_id: 'small_before', tool: 'search' }).baselineRuns).toBe(2);
  });

  it('where: exact value, glob, list (glob `_` is literal)', async () => {
    await resetRuns(store.ch, [
      run({ ts: cur(0), workflow_id: 'invoice_enrichment', tool_calls: { search: 1 } }),
      run({ ts: cur(1), workflow_id: 'invoice_enrichment', tool_calls: { search: 3 } }),
      run({ ts: cur(0), workflow_id: 'invoice_review', tool_calls: { search: 2 } }),
      run({ ts: cur(1), workflow_id: 'invoice_review', tool_calls: {} }),
      run({ ts: cur(0), workflow_id: 'support_triage', tool_calls: { search: 6 } }),
      run({ ts: cur(0), workflow_id: 'invoiceXreview', tool_calls: { search: 10 } }),
      ...['invoice_enrichment', 'invoice_review', 'support_triage', 'invoiceXreview'].map((wf) => run({ ts: base(0), workflow_id: wf, tool_calls: { search: 1 } })),
    ]);
    const check = async (where: Record<string, string | string[]>, current: number, currentRuns: number, baselineRuns: number) => {
      const ev = await evaluate(store.ch, toolRule({ where }));
      const s = series(ev, { tool: 'search' });
      expect(s.current, JSON.stringify(where)).toBeCloseTo(current, 10);
      // every workflow has one baseline run with 1 call: baseline = 1.0 whatever the filter
      expect(s.baseline, JSON.stringify(where)).toBeCloseTo(1.0, 10);
      expect(s.currentRuns, JSON.stringify(where)).toBe(currentRuns);
      expect(s.baselineRuns, JSON.stringify(where)).toBe(baselineRuns);
    };
    // exact: invoice_enrichment: (1+3)/2 = 2.0
    await check({ workflow_id: 'invoice_enrichment' }, 2.0, 2, 1);
    // glob inv*: invoice_enrichment + invoice_review + invoiceXreview: (4+2+10)/5 = 3.2
    await check({ workflow_id: 'inv*' }, 3.2, 5, 3);
    // glob invoice_*: `_` is a literal underscore, so invoiceXreview is out: (4+2)/4 = 1.5
    await check({ workflow_id: 'invoice_*' }, 1.5, 4, 2);
    // list: support_triage or invoice_review: (6+2)/3 = 2.6667
    await check({ workflow_id: ['support_triage', 'invoice_review'] }, 8 / 3, 3, 2);
    // list mixing a glob and an exact value: support* or invoice_enrichment: (6+4)/3 = 3.3333
    await check({ workflow_id: ['support*', 'invoice_enrichment'] }, 10 / 3, 3, 2);
    // two columns AND-ed: inv* and model-a (the default) is the same as inv*; model-b matches nothing
    await check({ workflow_id: 'inv*', model: 'model-a' }, 3.2, 5, 3);
    const none = await evaluate(store.ch, toolRule({ where: { workflow_id: 'inv*', model: 'model-b' } }));
    expect(none.series).toEqual([]);
  });

  it('where: `%` in a glob is a literal percent sign, not a LIKE wildcard', async () => {
    await resetRuns(store.ch, [
      run({ ts: cur(0), workflow_id: 'a%b', tool_calls: { search: 2 } }),
      run({ ts: cur(0), workflow_id: 'axb', tool_calls: { search: 9 } }),
      run({ ts: base(0), workflow_id: 'a%b', tool_calls: { search: 1 } }),
      run({ ts: base(0), workflow_id: 'axb', tool_calls: { search: 1 } }),
    ]);
    const s = series(await evaluate(store.ch, toolRule({ where: { workflow_id: 'a%*' } })), { tool: 'search' });
    // only a%b: current 2/1 = 2.0 (with % as a wildcard, axb would be in: (2+9)/2 = 5.5)
    expect(s.currentRuns).toBe(1);
    expect(s.current).toBeCloseTo(2.0, 10);
  });

  it('ignores runs outside both windows; window start is inclusive, window end (at) exclusive', async () => {
    await resetRuns(store.ch, [
      // current window [2026-03-08T00:00Z, 2026-03-15T00:00Z)
      run({ ts: '2026-03-08T00:00:00.000Z', tool_calls: { t: 4 } }), // exactly the current start: in
      run({ ts: '2026-03-14T23:59:59.9999Z', tool_calls: { t: 2 } }), // 0.1 ms before at: in
      run({ ts: '2026-03-15T00:00:00.000Z', tool_calls: { t: 100 } }), // exactly at: out
      run({ ts: '2026-03-16T12:00:00.000Z', tool_calls: { t: 100 } }), // after at: out
      // baseline window [2026-03-01T00:00Z, 2026-03-08T00:00Z)
      run({ ts: '2026-03-01T00:00:00.000Z', tool_calls: { t: 1 } }), // exactly the baseline start: in
      run({ ts: '2026-03-07T23:59:59.9999Z', tool_calls: { t: 3 } }), // 0.1 ms before the current start: baseline
      run({ ts: '2026-02-28T23:59:59.999Z', tool_calls: { t: 100 } }), // 1 ms before the baseline: out
      run({ ts: '2026-01-01T00:00:00.000Z', tool_calls: { t: 100 } }), // long before: out
    ]);
    const ev = await evaluate(store.ch, toolRule());
    expect(ev.windows).toEqual([
      { index: 0, startMs: Date.parse('2026-03-08T00:00:00Z'), endMs: AT },
      { index: 1, startMs: Date.parse('2026-03-01T00:00:00Z'), endMs: Date.parse('2026-03-08T00:00:00Z') },
    ]);
    const t = series(ev, { tool: 't' });
    // current: (4+2) / 2 runs = 3.0; baseline: (1+3) / 2 runs = 2.0; deviation = 3/2 - 1 = 0.5
    expect(t.currentRuns).toBe(2);
    expect(t.baselineRuns).toBe(2);
    expect(t.current).toBeCloseTo(3.0, 10);
    expect(t.baseline).toBeCloseTo(2.0, 10);
    expect(t.deviation).toBeCloseTo(0.5, 10);
  });
});

describe('tool_calls_per_run: other window lengths', () => {
  it('window 1d, baseline previous 3d with a 1d offset', async () => {
    // current [Mar 14, Mar 15); baseline ends 1d before the current start: [Mar 10, Mar 13)
    await resetRuns(store.ch, [
      run({ ts: '2026-03-14T06:00:00Z', tool_calls: { t: 2 } }),
      run({ ts: '2026-03-14T18:00:00Z', tool_calls: { t: 4 } }),
      run({ ts: '2026-03-13T12:00:00Z', tool_calls: { t: 100 } }), // in the offset gap: out
      run({ ts: '2026-03-10T00:00:00Z', tool_calls: { t: 1 } }),
      run({ ts: '2026-03-11T12:00:00Z', tool_calls: { t: 1 } }),
      run({ ts: '2026-03-12T23:00:00Z', tool_calls: { t: 4 } }),
      run({ ts: '2026-03-09T23:59:59Z', tool_calls: { t: 100 } }), // before the baseline: out
    ]);
    const ev = await evaluate(store.ch, toolRule({ windowMs: DAY, baseline: { kind: 'previous', lengthMs: 3 * DAY, offsetMs: DAY } }));
    expect(ev.windows).toEqual([
      { index: 0, startMs: Date.parse('2026-03-14T00:00:00Z'), endMs: AT },
      { index: 1, startMs: Date.parse('2026-03-10T00:00:00Z'), endMs: Date.parse('2026-03-13T00:00:00Z') },
    ]);
    const t = series(ev, { tool: 't' });
    // current: (2+4)/2 = 3.0; baseline: (1+1+4)/3 = 2.0 (a run-weighted ratio, not a mean of daily ratios); deviation 0.5
    expect(t.current).toBeCloseTo(3.0, 10);
    expect(t.baseline).toBeCloseTo(2.0, 10);
    expect(t.baselineRuns).toBe(3);
    expect(t.deviation).toBeCloseTo(0.5, 10);
  });
});

describe('tool_calls_per_run: seasonal baseline', () => {
  it('is the median of the same window 1..3 weeks back', async () => {
    const weekly = [
      // current [Mar 8, Mar 15): (3+3)/2 = 3.0
      run({ ts: cur(0), tool_calls: { t: 3 } }),
      run({ ts: cur(1), tool_calls: { t: 3 } }),
      // 1 week back [Mar 1, Mar 8): (1+1)/2 = 1.0
      run({ ts: weeksBack(1, 0), tool_calls: { t: 1 } }),
      run({ ts: weeksBack(1, 1), tool_calls: { t: 1 } }),
      // 3 weeks back [Feb 15, Feb 22): (2+1+3)/3 = 2.0
      run({ ts: weeksBack(3, 0), tool_calls: { t: 2 } }),
      run({ ts: weeksBack(3, 1), tool_calls: { t: 1 } }),
      run({ ts: weeksBack(3, 2), tool_calls: { t: 3 } }),
      // 4 weeks back: outside a 3-week seasonal baseline
      run({ ts: weeksBack(4, 0), tool_calls: { t: 50 } }),
    ];
    const week2 = [run({ ts: weeksBack(2, 3), tool_calls: { t: 3 } })]; // 2 weeks back [Feb 22, Mar 1): 3/1 = 3.0
    await resetRuns(store.ch, [...weekly, ...week2]);
    const seasonal = toolRule({ baseline: { kind: 'seasonal', weeks: 3 }, threshold: 0.2 });
    const ev = await evaluate(store.ch, seasonal);
    expect(ev.windows.map((w) => [w.startMs, w.endMs])).toEqual([0, 1, 2, 3].map((k) => [AT - WEEK - k * WEEK, AT - k * WEEK]));
    const t = series(ev, { tool: 't' });
    // baseline = median(1.0, 3.0, 2.0) = 2.0; current 3.0; deviation = 3.0/2.0 - 1 = 0.5
    expect(t.current).toBeCloseTo(3.0, 10);
    expect(t.baseline).toBeCloseTo(2.0, 10);
    expect(t.deviation).toBeCloseTo(0.5, 10);
    // baseline runs: the median week by runs: weeks have 2, 1, 3 runs -> 2
    expect(t.baselineRuns).toBe(2);
    expect(verdict(t)).toBe(true);

    // Without the week-2 runs only weeks with runs vote: median(1.0, 2.0) = 1.5; deviation = 3.0/1.5 - 1 = 1.0
    await resetRuns(store.ch, weekly);
    const t2 = series(await evaluate(store.ch, seasonal), { tool: 't' });
    expect(t2.baseline).toBeCloseTo(1.5, 10);
    expect(t2.deviation).toBeCloseTo(1.0, 10);
  });
});
