import { Gauge, register as globalRegister } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { carryOver, newAlertStates, type AlertStates } from '../../src/alerting/state.js';
import { applyRuleEvaluation } from '../../src/engine/engine.js';
import type { RuleEvaluation, SeriesEvaluation } from '../../src/engine/types.js';
import { capSeries, magnitudeOf } from '../../src/metrics/cap.js';
import { SERIES_LABEL_NAMES, type SeriesLabelName } from '../../src/metrics/labels.js';
import { NOTIFICATION_FAILURE_REASONS } from '../../src/metrics/reasons.js';
import { DriftMetrics } from '../../src/metrics/registry.js';
import type { Rule, RuleSet, SignalName } from '../../src/rules/types.js';
import { DIMENSION_COLUMNS } from '../../src/store/contract.js';
import { captureLogs } from '../helpers/logs.js';
import { prometheusSkip, promtoolCheckMetrics } from '../helpers/prometheus.js';

const MIN = 60_000;

function rule(over: Partial<Rule> = {}): Rule {
  return {
    alert: 'ToolCallsDrift',
    signal: 'tool_calls_per_run',
    where: {},
    groupBy: ['workflow_id'],
    windowMs: 60 * MIN,
    baseline: { kind: 'previous', lengthMs: 7 * 24 * 60 * MIN, offsetMs: 0 },
    threshold: 0.2,
    direction: 'both',
    minRuns: 10,
    significance: 0.05,
    forMs: 2 * MIN,
    options: {},
    labels: { severity: 'page' },
    annotations: {},
    pos: { file: 'rules/test.yaml', line: 1, col: 1 },
    ...over,
  };
}

interface S {
  wf: string;
  tool?: string;
  current?: number | null;
  baseline?: number | null;
  deviation?: number | null;
  isNew?: boolean;
  pValue?: number | null;
  active?: boolean;
  signal?: SignalName;
}

/** A series as the signals produce it: group labels plus the key label (`tool`) when there is a key. */
function series(r: Rule, s: S): SeriesEvaluation {
  const key = s.tool ?? '';
  return {
    rule: r.alert,
    signal: r.signal,
    labels: s.tool === undefined ? { workflow_id: s.wf } : { workflow_id: s.wf, tool: s.tool },
    key,
    current: s.current === undefined ? 2 : s.current,
    baseline: s.baseline === undefined ? 1 : s.baseline,
    deviation: s.deviation === undefined ? 1 : s.deviation,
    isNew: s.isNew ?? false,
    currentRuns: 40,
    baselineRuns: 400,
    test: null,
    contributors: [],
    exampleRunIds: [],
    pValue: s.pValue ?? null,
    outcome: { kind: 'ok', active: s.active ?? false },
  };
}

function evaluation(r: Rule, at: number, list: readonly S[], error: string | null = null): RuleEvaluation {
  return { rule: r, at, windows: [], series: error ? [] : list.map((s) => series(r, s)), error, durationMs: 12 };
}

/** What the metrics read at scrape time: the engine's alert state and its rules. */
interface World {
  readonly states: AlertStates;
  readonly rules: Map<string, Rule>;
}

function world(m: DriftMetrics): World {
  const w: World = { states: newAlertStates(), rules: new Map() };
  m.readStateFrom({ alertStates: w.states, rules: w.rules });
  return w;
}

/** What the engine does: the rule is loaded, its evaluation steps the state, the evaluation is counted. */
function record(m: DriftMetrics, w: World, ev: RuleEvaluation): void {
  w.rules.set(ev.rule.alert, ev.rule);
  applyRuleEvaluation(w.states, ev.rule, ev);
  m.recordRuleEvaluation(ev.rule);
}

function ruleSet(groups: Record<string, readonly Rule[]>): RuleSet {
  return { groups: Object.entries(groups).map(([name, rules]) => ({ name, schedule: { kind: 'interval', everyMs: 60_000 }, timeoutMs: 60_000, rules: [...rules], file: 'f' })) };
}

/** What a reload does: the engine takes the new rules (dropping the state of removed ones), metrics hear of it. */
function reload(m: DriftMetrics, w: World, rules: readonly Rule[]): void {
  w.rules.clear();
  for (const r of rules) w.rules.set(r.alert, r);
  carryOver(w.states, new Set(w.rules.keys()));
  m.recordRuleSet(ruleSet({ agents: rules }));
}

interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The samples of one metric name in an exposition text (enough of the format for these tests). */
function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const v = m[4]!;
    out.push({ labels, value: v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) });
  }
  return out;
}

const pick = (list: Sample[], where: Record<string, string>): Sample[] =>
  list.filter((s) => Object.entries(where).every(([k, v]) => s.labels[k] === v));
const one = (list: Sample[], where: Record<string, string>): number => {
  const found = pick(list, where);
  if (found.length !== 1) throw new Error(`expected one sample with ${JSON.stringify(where)}, got ${JSON.stringify(found)}`);
  return found[0]!.value;
};

const VALUE_METRICS = [
  'agentdrift_signal_current_value',
  'agentdrift_signal_baseline_value',
  'agentdrift_signal_deviation_ratio',
  'agentdrift_signal_runs',
  'agentdrift_signal_p_value',
];

describe('per-series metrics', () => {
  it('exports values with the fixed label set: every dimension column, key, signal and severity', async () => {
    const m = new DriftMetrics({ defaultMetrics: false });
    const r = rule();
    const states = world(m);
    record(
      m,
      states,
      evaluation(r, 0, [
        { wf: 'checkout', tool: 'search', current: 3, baseline: 2, deviation: 0.5, pValue: 0.01 },
        { wf: 'checkout', tool: 'refund', current: 1, baseline: 0, deviation: null, isNew: true },
        { wf: 'billing', tool: 'search', current: null, baseline: 2, deviation: null },
      ]),
    );
    const text = await m.metricsText();

    const current = samples(text, 'agentdrift_signal_current_value');
    const expectedLabels: Record<string, string> = { rule: 'ToolCallsDrift', signal: 'tool_calls_per_run', key: 'search', attributes: '', severity: 'page' };
    for (const c of DIMENSION_COLUMNS) expectedLabels[c] = '';
    expectedLabels.workflow_id = 'checkout';
    expect(pick(current, { workflow_id: 'checkout', key: 'search' })).toEqual([{ labels: expectedLabels, value: 3 }]);
    expect(Object.keys(current[0]!.labels).sort()).toEqual([...SERIES_LABEL_NAMES].sort());

    // A value that cannot be computed is absent, not 0 or NaN.
    expect(pick(current, { workflow_id: 'billing' })).toEqual([]);
    expect(one(samples(text, 'agentdrift_signal_baseline_value'), { workflow_id: 'billing' })).toBe(2);

    const deviation = samples(text, 'agentdrift_signal_deviation_ratio');
    expect(one(deviation, { key: 'search', workflow_id: 'checkout' })).toBe(0.5);
    expect(one(deviation, { key: 'refund' })).toBe(Infinity);
    expect(pick(deviation, { workflow_id: 'billing' })).toEqual([]);

    const runs = samples(text, 'agentdrift_signal_runs');
    expect(one(runs, { key: 'search', workflow_id: 'checkout', window: 'current' })).toBe(40);
    expect(one(runs, { key: 'search', workflow_id: 'checkout', window: 'baseline' })).toBe(400);

    // Only where a test ran.
    expect(samples(text, 'agentdrift_signal_p_value')).toEqual([{ labels: expectedLabels, value: 0.01 }]);

    const alertStates = samples(text, 'agentdrift_alert_state');
    expect(alertStates).toHaveLength(3);
    expect(alertStates.every((s) => s.labels.alertstate === 'inactive' && s.value === 1)).toBe(true);
  });

  it('uses empty strings for columns the rule does not group by, and for a rule without severity', async () => {
    const m = new DriftMetrics({ defaultMetrics: false });
    const r = rule({ alert: 'CostDrift', signal: 'cost_per_success', groupBy: ['agent_id', 'environment'], labels: {} });
    const s: SeriesEvaluation = { ...series(r, { wf: 'x' }), labels: { agent_id: 'a1', environment: 'prod' } };
    const states = world(m);
    record(m, states, { rule: r, at: 0, windows: [], series: [s], error: null, durationMs: 1 });
    const text = await m.metricsText();
    const [sample] = samples(text, 'agentdrift_signal_current_value');
    expect(sample?.labels).toMatchObject({ rule: 'CostDrift', signal: 'cost_per_success', key: '', agent_id: 'a1', environment: 'prod', workflow_id: '', severity: '' });
    // The alert state series is the same series (derived key matches the evaluation's key).
    expect(samples(text, 'agentdrift_alert_state')).toEqual([{ labels: { ...sample!.labels, alertstate: 'inactive' }, value: 1 }]);
  });

  it('removes a vanished group from the value gauges, and its alert state once the state machine drops it', async () => {
    const m = new DriftMetrics({ defaultMetrics: false });
    const r = rule();
    const states = world(m);
    record(m, states, evaluation(r, 0, [{ wf: 'checkout', tool: 'search' }, { wf: 'billing', tool: 'search' }]));
    record(m, states, evaluation(r, 5 * MIN, [{ wf: 'checkout', tool: 'search' }]));
    let text = await m.metricsText();
    for (const name of VALUE_METRICS.filter((n) => n !== 'agentdrift_signal_p_value')) {
      expect(pick(samples(text, name), { workflow_id: 'checkout' }).length, name).toBeGreaterThan(0);
      expect(pick(samples(text, name), { workflow_id: 'billing' }), name).toEqual([]);
    }
    // The state machine stepped the absent group to no data: that is still its state.
    expect(pick(samples(text, 'agentdrift_alert_state'), { workflow_id: 'billing' })).toEqual([
      expect.objectContaining({ labels: expect.objectContaining({ alertstate: 'nodata' }), value: 1 }),
    ]);

    record(m, states, evaluation(r, 10 * MIN, [{ wf: 'checkout', tool: 'search' }]));
    text = await m.metricsText();
    expect(text).not.toContain('workflow_id="billing"');
  });

  it('moves the alert state series from pending to firing without leaving a stale pending series', async () => {
    const m = new DriftMetrics({ defaultMetrics: false });
    const r = rule();
    const states = world(m);
    const hot = [{ wf: 'checkout', tool: 'search', active: true }];
    record(m, states, evaluation(r, 0, hot));
    expect(samples(await m.metricsText(), 'agentdrift_alert_state').map((s) => s.labels.alertstate)).toEqual(['pending']);
    record(m, states, evaluation(r, 3 * MIN, hot));
    expect(samples(await m.metricsText(), 'agentdrift_alert_state').map((s) => [s.labels.alertstate, s.value])).toEqual([['firing', 1]]);
    record(m, states, evaluation(r, 6 * MIN, [{ wf: 'checkout', tool: 'search', active: false }]));
    expect(samples(await m.metricsText(), 'agentdrift_alert_state').map((s) => [s.labels.alertstate, s.value])).toEqual([['resolved', 1]]);
  });

  it('keeps the last values when the query fails, while the alert state follows the state machine', async () => {
    const m = new DriftMetrics({ defaultMetrics: false });
    const r = rule();
    const states = world(m);
    record(
      m,
      states,
      evaluation(r, 0, [
        { wf: 'checkout', tool: 'search', deviation: 0.7, active: true },
        { wf: 'billing', tool: 'search', deviation: 0.1 },
      ]),
    );
    record(m, states, evaluation(r, 3 * MIN, [{ wf: 'checkout', tool: 'search', deviation: 0.7, active: true }, { wf: 'billing', tool: 'search', deviation: 0.1 }]));
    const before = await m.metricsText();
    record(m, states, evaluation(r, 6 * MIN, [], 'ClickHouse: connection refused'));
    const after = await m.metricsText();

    for (const name of VALUE_METRICS) expect(samples(after, name), name).toEqual(samples(before, name));
    const alertStates = samples(after, 'agentdrift_alert_state');
    // A firing alert keeps firing through an error; an inactive one is in error.
    expect(one(alertStates, { workflow_id: 'checkout', alertstate: 'firing' })).toBe(1);
    expect(one(alertStates, { workflow_id: 'billing', alertstate: 'error' })).toBe(1);
    expect(alertStates).toHaveLength(2);
  });

  it('caps series per rule: the largest |deviation| survive, the rest are counted and logged once per evaluation', async () => {
    const { logger, lines } = captureLogs();
    const m = new DriftMetrics({ defaultMetrics: false, maxSeriesPerRule: 2, logger });
    const r = rule();
    const states = world(m);
    const list: S[] = [
      { wf: 'a', tool: 'search', deviation: 0.1 },
      { wf: 'b', tool: 'search', deviation: -0.9 },
      { wf: 'c', tool: 'search', deviation: 0.5 },
      { wf: 'd', tool: 'search', deviation: 0.05 },
    ];
    record(m, states, evaluation(r, 0, list));
    let text = await m.metricsText();
    const exported = (name: string) =>
      samples(text, name)
        .map((s) => s.labels.workflow_id)
        .sort();
    for (const name of [...VALUE_METRICS.filter((n) => n !== 'agentdrift_signal_p_value'), 'agentdrift_alert_state']) {
      expect([...new Set(exported(name))], name).toEqual(['b', 'c']);
    }
    expect(samples(text, 'agentdrift_series_overflow_total')).toEqual([{ labels: { rule: 'ToolCallsDrift' }, value: 2 }]);
    const warns = lines().filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ rule: 'ToolCallsDrift', dropped: 2, exported: 2, series: 4 });

    // The ranking follows the data: when `d` moves most, it replaces `c`, which disappears.
    record(m, states, evaluation(r, 5 * MIN, list.map((s) => (s.wf === 'd' ? { ...s, deviation: 3 } : s))));
    text = await m.metricsText();
    expect([...new Set(exported('agentdrift_signal_deviation_ratio'))]).toEqual(['b', 'd']);
    expect([...new Set(exported('agentdrift_alert_state'))]).toEqual(['b', 'd']);
    expect(one(samples(text, 'agentdrift_series_overflow_total'), { rule: 'ToolCallsDrift' })).toBe(4);
    expect(lines().filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it('keeps a pending or firing series under the cap even when its deviation is small', async () => {
    const m = new DriftMetrics({ defaultMetrics: false, maxSeriesPerRule: 1 });
    const r = rule();
    const states = world(m);
    record(
      m,
      states,
      evaluation(r, 0, [
        { wf: 'a', tool: 'search', deviation: 5 },
        { wf: 'b', tool: 'search', deviation: 0.3, active: true },
      ]),
    );
    const text = await m.metricsText();
    expect(samples(text, 'agentdrift_alert_state').map((s) => [s.labels.workflow_id, s.labels.alertstate])).toEqual([['b', 'pending']]);
  });

  it('forgets every series of a removed rule and leaves other rules alone', async () => {
    const m = new DriftMetrics({ defaultMetrics: false, maxSeriesPerRule: 1 });
    const a = rule();
    const b = rule({ alert: 'PolicyDrift', signal: 'policy_activation_rate' });
    const states = world(m);
    record(m, states, evaluation(a, 0, [{ wf: 'x', tool: 't' }, { wf: 'y', tool: 't' }]));
    record(m, states, evaluation(b, 0, [{ wf: 'x' }]));
    reload(m, states, [b]);
    const text = await m.metricsText();
    expect(text).not.toContain('rule="ToolCallsDrift"');
    expect(samples(text, 'agentdrift_signal_current_value').map((s) => s.labels.rule)).toEqual(['PolicyDrift']);
  });

  it('drops the old label set when a reload changes the rule severity', async () => {
    const m = new DriftMetrics({ defaultMetrics: false });
    const states = world(m);
    record(m, states, evaluation(rule(), 0, [{ wf: 'x', tool: 't' }]));
    record(m, states, evaluation(rule({ labels: { severity: 'ticket' } }), 5 * MIN, [{ wf: 'x', tool: 't' }]));
    const text = await m.metricsText();
    expect(text).not.toContain('severity="page"');
    expect(samples(text, 'agentdrift_alert_state')).toHaveLength(1);
    expect(samples(text, 'agentdrift_signal_current_value')).toHaveLength(1);
  });
});

describe('group, reload, notification and store metrics', () => {
  it('counts evaluations, failures, skips and the last success per group, with counters at 0 from the start', async () => {
    const m = new DriftMetrics({ defaultMetrics: false });
    m.recordRuleSet(ruleSet({ fast: [], slow: [] }));
    let text = await m.metricsText();
    expect(one(samples(text, 'agentdrift_group_evaluation_failures_total'), { group: 'slow' })).toBe(0);
    expect(one(samples(text, 'agentdrift_group_skipped_evaluations_total'), { group: 'fast' })).toBe(0);

    m.recordGroupEvaluation('fast', 250, true, 1_700_000_000_000);
    m.recordGroupEvaluation('fast', 4_000, false, 1_700_000_060_000);
    m.recordSkipped('fast');
    text = await m.metricsText();
    expect(one(samples(text, 'agentdrift_group_evaluations_total'), { group: 'fast' })).toBe(2);
    expect(one(samples(text, 'agentdrift_group_evaluation_failures_total'), { group: 'fast' })).toBe(1);
    expect(one(samples(text, 'agentdrift_group_skipped_evaluations_total'), { group: 'fast' })).toBe(1);
    expect(one(samples(text, 'agentdrift_group_last_success_timestamp_seconds'), { group: 'fast' })).toBe(1_700_000_000);
    expect(one(samples(text, 'agentdrift_group_evaluation_duration_seconds_sum'), { group: 'fast' })).toBeCloseTo(4.25);
    expect(one(samples(text, 'agentdrift_group_evaluation_duration_seconds_bucket'), { group: 'fast', le: '0.25' })).toBe(1);

    m.recordRuleSet(ruleSet({ fast: [] }));
    expect(await m.metricsText()).not.toContain('group="slow"');
  });

  it('counts reloads by result and the rules loaded', async () => {
    const m = new DriftMetrics({ defaultMetrics: false });
    let text = await m.metricsText();
    expect(samples(text, 'agentdrift_rule_reloads_total').map((s) => [s.labels.result, s.value])).toEqual([
      ['success', 0],
      ['failure', 0],
    ]);
    m.recordRuleSet(ruleSet({ a: [rule({ alert: 'A' }), rule({ alert: 'B' })], b: [rule({ alert: 'C' })] }));
    m.recordReload(true);
    m.recordReload(false);
    text = await m.metricsText();
    expect(one(samples(text, 'agentdrift_rule_reloads_total'), { result: 'failure' })).toBe(1);
    expect(one(samples(text, 'agentdrift_rules_loaded'), {})).toBe(3);
    expect(one(samples(text, 'agentdrift_rule_threshold'), { rule: 'A', kind: 'relative' })).toBe(0.2);
  });

  it('exports each rule\'s threshold, an absolute limit with its bound, and forgets rules no longer loaded', async () => {
    const m = new DriftMetrics({ defaultMetrics: false });
    m.recordRuleSet(ruleSet({ a: [rule({ alert: 'Budget', signal: 'cost', threshold: 25, absolute: { bound: 'above', value: 25 } }), rule({ alert: 'Calls' })] }));
    let text = await m.metricsText();
    expect(samples(text, 'agentdrift_rule_threshold').map((s) => [s.labels.rule, s.labels.signal, s.labels.kind, s.value])).toEqual([
      ['Budget', 'cost', 'above', 25],
      ['Calls', 'tool_calls_per_run', 'relative', 0.2],
    ]);
    m.recordRuleSet(ruleSet({ a: [rule({ alert: 'Calls' })] }));
    text = await m.metricsText();
    expect(samples(text, 'agentdrift_rule_threshold').map((s) => s.labels.rule)).toEqual(['Calls']);
  });

  it('initialises notification counters for every receiver and reason, and bounds the reason label', async () => {
    const m = new DriftMetrics({ defaultMetrics: false });
    m.registerReceivers([
      { name: 'oncall', integration: 'webhook' },
      { name: 'team', integration: 'email' },
    ]);
    let text = await m.metricsText();
    const failed = samples(text, 'agentdrift_notifications_failed_total');
    expect(failed).toHaveLength(2 * NOTIFICATION_FAILURE_REASONS.length);
    expect(failed.every((s) => s.value === 0)).toBe(true);
    expect(samples(text, 'agentdrift_notifications_total')).toHaveLength(2);
    expect(samples(text, 'agentdrift_notification_retries_total')).toHaveLength(2);

    m.recordNotification('oncall', 'webhook', 'sent');
    m.recordNotification('oncall', 'webhook', 'retry');
    m.recordNotification('oncall', 'webhook', 'failed', 'rate_limited');
    m.recordNotification('oncall', 'webhook', 'failed');
    // A caller that bypasses the type must not create a new label value.
    m.recordNotification('oncall', 'webhook', 'failed', 'HTTP 418' as never);
    // Read from the pipeline at scrape time.
    m.readStateFrom({ alertStates: new Map(), rules: new Map(), pendingNotifications: () => 3 });
    text = await m.metricsText();
    expect(one(samples(text, 'agentdrift_notifications_total'), { receiver: 'oncall' })).toBe(1);
    expect(one(samples(text, 'agentdrift_notification_retries_total'), { receiver: 'oncall' })).toBe(1);
    expect(one(samples(text, 'agentdrift_notifications_failed_total'), { receiver: 'oncall', reason: 'rate_limited' })).toBe(1);
    expect(one(samples(text, 'agentdrift_notifications_failed_total'), { receiver: 'oncall', reason: 'other' })).toBe(2);
    expect(one(samples(text, 'agentdrift_notifications_pending'), {})).toBe(3);

    m.registerReceivers([{ name: 'team', integration: 'email' }]);
    expect(await m.metricsText()).not.toContain('receiver="oncall"');
  });

  it('exports ClickHouse health and the malformed run count', async () => {
    const m = new DriftMetrics({ defaultMetrics: false });
    m.setClickHouseUp(false);
    m.setMalformedRuns(7);
    let text = await m.metricsText();
    expect(one(samples(text, 'agentdrift_clickhouse_up'), {})).toBe(0);
    expect(one(samples(text, 'agentdrift_malformed_runs'), {})).toBe(7);
    m.setClickHouseUp(true);
    text = await m.metricsText();
    expect(one(samples(text, 'agentdrift_clickhouse_up'), {})).toBe(1);
  });

  it('uses a registry of its own: two instances coexist and nothing reaches the global registry', async () => {
    const a = new DriftMetrics();
    const b = new DriftMetrics();
    a.setMalformedRuns(1);
    b.setMalformedRuns(2);
    expect(one(samples(await a.metricsText(), 'agentdrift_malformed_runs'), {})).toBe(1);
    expect(one(samples(await b.metricsText(), 'agentdrift_malformed_runs'), {})).toBe(2);
    expect(await globalRegister.metrics()).not.toContain('agentdrift_');
    expect(await a.metricsText()).toContain('agentdrift_process_cpu_seconds_total');
    expect(a.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('rejects a cap below 1', () => {
    expect(() => new DriftMetrics({ maxSeriesPerRule: 0 })).toThrow(/maxSeriesPerRule/);
  });
});

describe('cap and labels (pure)', () => {
  it('ranks active alerts first, then |deviation|, then the id; new keys count as the largest move', () => {
    const c = (id: string, magnitude: number, state: 'inactive' | 'firing' | null = null) => ({ id, magnitude, state });
    const { kept, dropped } = capSeries([c('a', 0.1), c('b', 0.9), c('c', 0.1, 'firing'), c('d', magnitudeOf(null, true)), c('e', 0.9)], 4);
    expect(kept.map((k) => k.id)).toEqual(['c', 'd', 'b', 'e']);
    expect(dropped).toBe(1);
    expect(magnitudeOf(null, false)).toBe(-1);
    expect(magnitudeOf(-0.4, false)).toBe(0.4);
  });

  it('makes a wrong label name a compile error', () => {
    const g = new Gauge<SeriesLabelName>({ name: 'x', help: 'x', labelNames: SERIES_LABEL_NAMES, registers: [] });
    // prom-client rejects it at run time too; the point is that tsc rejects it first.
    // @ts-expect-error `tool` is not one of the fixed label names.
    expect(() => g.set({ tool: 'search' }, 1)).toThrow(/not included in initial labelset/);
  });
});

describe('promtool check metrics', () => {
  const { skip, reason } = prometheusSkip('promtool');
  if (skip) console.warn(`promtool tests skipped: ${reason}`);
  it.skipIf(skip)(`reports nothing on the full exposition${skip ? ` (skipped: ${reason})` : ''}`, async () => {
    const m = new DriftMetrics();
    const states = world(m);
    const r = rule();
    record(m, states, evaluation(r, 0, [{ wf: 'checkout', tool: 'search', pValue: 0.02, active: true }, { wf: 'billing', tool: 'refund', isNew: true, deviation: null }]));
    record(m, states, evaluation(rule({ alert: 'SchemaShift', signal: 'output_schema_shift', labels: {} }), 0, [{ wf: 'checkout' }]));
    m.recordRuleSet(ruleSet({ agents: [...states.rules.values()] }));
    m.recordGroupEvaluation('agents', 120, true, Date.parse('2026-11-22T03:00:00Z'));
    m.recordSkipped('agents');
    m.recordReload(true);
    m.registerReceivers([{ name: 'oncall', integration: 'webhook' }]);
    m.recordNotification('oncall', 'webhook', 'failed', 'timeout');
    m.setClickHouseUp(true);
    m.setMalformedRuns(0);
    const text = await m.metricsText();
    const { status, output } = promtoolCheckMetrics(text);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  // So that the empty output above means "clean", not "promtool read nothing".
  it.skipIf(skip)(`does report a badly named metric${skip ? ` (skipped: ${reason})` : ''}`, () => {
    const { status, output } = promtoolCheckMetrics('# HELP agentdrift_bad_count A counter without _total.\n# TYPE agentdrift_bad_count counter\nagentdrift_bad_count 1\n');
    expect(status).not.toBe(0);
    expect(output).toContain('agentdrift_bad_count');
  });
});
