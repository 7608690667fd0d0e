/**
 * The pure parts of an explanation: the change-point estimate and its uncertainty, the
 * decompositions that must add up to the whole change, the rule for pinning a change on a value,
 * trace links, and the text every notification carries.
 */
import { describe, expect, it } from 'vitest';
import { attribute, isCause } from '../../src/explain/attribution.js';
import { estimateOnset, type HourlyPoint } from '../../src/explain/changepoint.js';
import { costParts, fingerprintParts, policyRuleParts, shapley, toolCallParts } from '../../src/explain/decompose.js';
import { SeriesExplainer } from '../../src/explain/enrich.js';
import { summarize } from '../../src/explain/format.js';
import { silentLogger } from '../../src/log.js';
import { rule } from '../helpers/runs.js';
import { traceLink, traceUrlProblem } from '../../src/explain/traceUrl.js';
import type { Explanation, ValueShare } from '../../src/explain/types.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-10T00:00:00Z');

/** A deterministic noisy hourly series with a step at hour `k` (value a before, b after). */
function series(hours: number, k: number | null, a: number, b: number, runs = (h: number) => 20 + (h % 24) * 3, noise = 0.3): HourlyPoint[] {
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: hours }, (_, h) => {
    const n = runs(h);
    const mean = k !== null && h >= k ? b : a;
    // Sum of n per-run values with sd `noise`: mean n·m, sd noise·√n (a uniform approximation).
    const x = n * mean + (rand() - 0.5) * 2 * Math.sqrt(3) * noise * Math.sqrt(n);
    return { t: T0 + h * HOUR, x, n };
  });
}

describe('onset: single change-point on hourly buckets', () => {
  it('finds a step within an hour and says ± at least an hour', () => {
    const o = estimateOnset(series(336, 200, 1.1, 2.0))!;
    expect(o.at).toBe(T0 + 200 * HOUR);
    expect(o.uncertaintyMs).toBe(HOUR);
    expect(o.before).toBeCloseTo(1.1, 1);
    expect(o.after).toBeCloseTo(2.0, 1);
  });

  it('a small step in noisy data is placed less surely: the interval widens', () => {
    const o = estimateOnset(series(336, 150, 1.0, 1.06, (h) => 5 + (h % 3), 0.5), { minZ: 2 });
    if (o !== null) expect(o.high - o.low).toBeGreaterThanOrEqual(2 * HOUR);
  });

  it('reports no onset when there is no step', () => {
    expect(estimateOnset(series(336, null, 1.1, 1.1))).toBeNull();
  });

  it('skips empty hours and needs enough of them', () => {
    expect(estimateOnset([{ t: T0, x: 1, n: 1 }])).toBeNull();
    const pts = series(100, 60, 0.2, 0.8).map((p, i) => (i % 5 === 0 ? { ...p, x: 0, n: 0 } : p));
    expect(estimateOnset(pts)!.at).toBe(T0 + 61 * HOUR); // hour 60 is empty: the first hour with data after the step
  });
});

describe('what moved: parts add up to the change', () => {
  it('Shapley values add up exactly and give 0 to a factor that did not move', () => {
    const f = (v: readonly number[]) => (v[0]! + v[1]!) / v[2]!;
    const phi = shapley(f, [0.02, 0.03, 0.93], [0.025, 0.03, 0.45]);
    expect(phi[0]! + phi[1]! + phi[2]!).toBeCloseTo(f([0.025, 0.03, 0.45]) - f([0.02, 0.03, 0.93]), 14);
    expect(phi[1]).toBe(0);
  });

  it('cost per success: the success-rate part carries a fall in successes', () => {
    const m = costParts({ runs: 1000, successes: 450, tokenCost: 20, toolCost: 30 }, { runs: 1000, successes: 930, tokenCost: 20, toolCost: 30 });
    expect(m.parts[0]!.name).toBe('success rate');
    expect(m.parts[0]!.share).toBeCloseTo(1, 12);
    expect(m.parts.reduce((s, p) => s + p.contribution, 0)).toBeCloseTo(m.change!, 14);
    const tool = costParts({ runs: 1000, successes: 950, tokenCost: 20, toolCost: 60 }, { runs: 1000, successes: 950, tokenCost: 20, toolCost: 30 }, 'total');
    expect(tool.parts[0]).toMatchObject({ name: 'tool cost' });
    expect(tool.parts[0]!.share).toBeCloseTo(1, 12);
    // cost: token leaves tool cost out of the quantity altogether.
    expect(costParts({ runs: 10, successes: 5, tokenCost: 1, toolCost: 9 }, { runs: 10, successes: 10, tokenCost: 1, toolCost: 1 }, 'token').parts.find((p) => p.name === 'tool cost')!.contribution).toBe(0);
  });

  it('per-tool contributions add up to the change in calls per run', () => {
    const m = toolCallParts(new Map([['a', { current: 200, baseline: 110 }], ['b', { current: 100, baseline: 100 }], ['new', { current: 10, baseline: 0 }]]), { current: 100, baseline: 100 });
    expect(m.parts.map((p) => p.name)).toEqual(['a', 'new', 'b']);
    expect(m.parts.reduce((s, p) => s + p.contribution, 0)).toBeCloseTo(m.change!, 12);
    expect(m.parts[0]!.share).toBeCloseTo(0.9, 12);
  });

  it('fingerprints: new, grown, shrunk and vanished with their shares', () => {
    const m = fingerprintParts(
      new Map([['old', { current: 50, baseline: 90 }], ['new', { current: 45, baseline: 0 }], ['gone', { current: 0, baseline: 10 }], ['up', { current: 5, baseline: 0.0001 }]]),
      { current: 100, baseline: 100.0001 },
    );
    const by = Object.fromEntries(m.parts.map((p) => [p.name, p]));
    expect(by.new!.status).toBe('new');
    expect(by.old!.status).toBe('shrunk');
    expect(by.gone!.status).toBe('vanished');
    expect(by.up!.status).toBe('grown');
    expect(m.change).toBeCloseTo(0.5, 3);
  });

  it('policy rules: what the names do not cover is "other", so the parts add up', () => {
    const m = policyRuleParts(new Map([['r1', { current: 30, baseline: 10 }]]), { current: 40, baseline: 12 }, { current: 300, baseline: 300 }, false);
    expect(m.parts.map((p) => p.name)).toEqual(['r1', 'other']);
    expect(m.parts.reduce((s, p) => s + p.contribution, 0)).toBeCloseTo(m.change!, 12);
  });
});

const share = (dimension: string, value: string, explained: number, currentShare: number, baselineShare: number, firstSeen: number | null = null, appeared = false): ValueShare => ({
  dimension, value, explained, currentShare, baselineShare, firstSeen, appeared,
});

describe('attribution: which values the change is pinned on', () => {
  it('a value that explains more than its share of runs is a cause; ranking is by explained share', () => {
    const a = attribute([share('tenant_id', 'acme', 0.05, 0.5, 0.5), share('tenant_id', 'initech', 0.9, 0.2, 0.2), share('tenant_id', 'globex', 0.05, 0.3, 0.3)], null);
    expect(a.causes.map((c) => c.value)).toEqual(['initech']);
    expect(a.dimensions[0]!.values.map((v) => v.value)).toEqual(['initech', 'acme', 'globex']);
  });

  it('a change spread evenly over the values is pinned on none, however frequent a value is', () => {
    const a = attribute([share('tenant_id', 'acme', 0.5, 0.5, 0.5), share('tenant_id', 'globex', 0.3, 0.3, 0.3), share('tenant_id', 'initech', 0.2, 0.2, 0.2)], null);
    expect(a.causes).toEqual([]);
    expect(a.dimensions[0]!.spread).toBe(true);
    // The one value of a dimension explains everything and is no cause.
    expect(isCause(share('environment', 'prod', 1, 1, 1))).toBe(false);
  });

  it('a value that replaced another is a cause, flagged when first seen near the onset', () => {
    const onset = T0 + 100 * HOUR;
    const a = attribute([share('prompt_version', 'v13', 1, 1, 0, onset - 11 * 60_000, true), share('prompt_version', 'v12', 0, 0, 1)], onset);
    expect(a.causes).toHaveLength(1);
    expect(a.causes[0]!.leadMs).toBe(11 * 60_000);
    const far = attribute([share('prompt_version', 'v13', 1, 1, 0, onset - 3 * 24 * HOUR, true)], onset);
    expect(far.causes[0]!.leadMs).toBeNull();
  });

  it('without a change to explain (no active alert, no step) nothing is pinned', () => {
    expect(attribute([share('tenant_id', 'acme', 1.03, 0.52, 0.51)], null, false).causes).toEqual([]);
  });
});

describe('trace links and summaries', () => {
  it('trace_url: ids are URL-encoded; only http(s) templates with a placeholder pass', () => {
    const link = traceLink('https://tempo.example.com/trace/{trace_id}?run={run_id}')!;
    expect(link('abc', 'run 1')).toBe('https://tempo.example.com/trace/abc?run=run%201');
    expect(link('../../evil.com/x', 'r')).toBe('https://tempo.example.com/trace/..%2F..%2Fevil.com%2Fx?run=r');
    expect(traceLink(null)).toBeNull();
    expect(traceUrlProblem('https://tempo/trace/{trace_id}')).toBeNull();
    expect(traceUrlProblem('javascript:alert({trace_id})')).toMatch(/http/);
    expect(traceUrlProblem('https://tempo/trace/')).toMatch(/placeholder|\{trace_id\}/);
  });

  it('summarize: onset, what moved, cause and examples in a few lines', () => {
    const e: Explanation = {
      rule: 'R', signal: 'tool_calls_per_run', labels: { workflow_id: 'w', tool: 't' }, key: 't', at: T0, windowStart: T0 - 7 * 24 * HOUR,
      quantity: { name: 't calls per run', baseline: 1.1, current: 2 },
      onset: { at: Date.parse('2026-11-17T09:00:00Z'), uncertaintyMs: HOUR, low: 0, high: 0, before: 1.1, after: 2, hours: 336 },
      moved: { kind: 'tool_calls', unit: 'calls per run', baseline: 3.1, current: 4, change: 0.9, parts: [{ name: 't', baseline: 1.1, current: 2, contribution: 0.9, share: 1 }, { name: 'u', baseline: 1, current: 1, contribution: 0, share: 0 }] },
      attribution: { causes: [{ ...share('prompt_version', 'v13', 0.92, 0.7, 0, Date.parse('2026-11-17T08:49:00Z'), true), leadMs: 11 * 60_000 }], dimensions: [] },
      examples: [{ runId: 'r1', traceId: 'tr1', timestamp: T0, value: 2, url: 'https://x/tr1' }],
    };
    const s = summarize(e);
    expect(s.onset).toBe('started 2026-11-17 09:00 UTC ± 1 h (Tuesday)');
    expect(s.moved).toBe('t 1.1 → 2 (+0.9, 100% of the change)');
    expect(s.cause).toBe('prompt_version v13 explains 92% of the change (on 70% of current runs, 0% before; first seen 2026-11-17 08:49 UTC, 11 minutes before the onset)');
    expect(s.examples).toEqual([{ runId: 'r1', traceId: 'tr1', url: 'https://x/tr1' }]);
  });
});

describe('the explain port: which series, and how often', () => {
  const r = rule('tool_calls_per_run', { alert: 'R', groupBy: ['workflow_id'] });
  const series = (state: 'pending' | 'firing' | 'resolved' | 'inactive', activeAt = 1000) => ({
    id: 'R{tool="t",workflow_id="w"}',
    alert: 'R',
    key: 't',
    labels: { workflow_id: 'w', tool: 't' },
    measured: true,
    record: { state, activeAt, firedAt: null, resolvedAt: null, lastEvalAt: 0, health: 'ok' as const, lastError: null },
  });

  it('explains pending and firing series only, then serves the cache until N evaluations, a moved window or a new episode', async () => {
    let queries = 0;
    const x = new SeriesExplainer({ query: async () => (queries++, []), table: 't', logger: silentLogger, refreshEvery: 3 });
    const at = T0;
    expect((await x.port(r, [series('inactive'), series('resolved')], at)).size).toBe(0);
    expect(queries).toBe(0);
    expect((await x.port(r, [series('pending')], at)).size).toBe(1);
    expect(x.computed).toBe(1);
    await x.port(r, [series('firing')], at + 300_000); // same episode: cached
    await x.port(r, [series('firing')], at + 600_000);
    expect(x.computed).toBe(1);
    await x.port(r, [series('firing')], at + 900_000); // the third evaluation since: recomputed
    expect(x.computed).toBe(2);
    await x.port(r, [series('firing')], at + 900_000 + r.windowMs / 10); // the window moved a tenth
    expect(x.computed).toBe(3);
    await x.port(r, [series('pending', 5000)], at + 900_000 + r.windowMs / 10); // a new episode
    expect(x.computed).toBe(4);
  });

  it('a failing explanation is logged and the alert goes on without it', async () => {
    const warned: string[] = [];
    const logger = { ...silentLogger, warn: (_o: unknown, m?: string) => void warned.push(String(m)) } as typeof silentLogger;
    const x = new SeriesExplainer({ query: async () => Promise.reject(new Error('boom')), table: 't', logger });
    expect((await x.port(r, [series('firing')], T0)).size).toBe(0);
    expect(warned[0]).toMatch(/explaining the alert failed/);
  });
});
