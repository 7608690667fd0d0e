/**
 * One scrape, one walk of the engine's alert state: every per-series gauge of a scrape is filled from
 * the same snapshot, and the text is what it was when each gauge walked the series on its own.
 */
import { describe, expect, it } from 'vitest';
import type { AlertSeries } from '../../src/alerting/state.js';
import { seriesId, type AlertState, type Evidence, type Health } from '../../src/alerting/types.js';
import { DriftMetrics, type MetricsSource } from '../../src/metrics/registry.js';
import type { Rule, SignalName } from '../../src/rules/types.js';
import { prometheusSkip, promtoolCheckMetrics } from '../helpers/prometheus.js';

const AT = Date.parse('2026-11-22T03:00:00Z');

function rule(alert: string, signal: SignalName, severity?: string): Rule {
  return {
    alert,
    signal,
    where: {},
    groupBy: ['workflow_id'],
    windowMs: 3_600_000,
    baseline: { kind: 'previous', lengthMs: 7 * 86_400_000, offsetMs: 0 },
    threshold: 0.2,
    direction: 'both',
    minRuns: 10,
    significance: 0.05,
    forMs: 120_000,
    options: {},
    labels: severity === undefined ? {} : { severity },
    annotations: {},
    pos: { file: 'rules/test.yaml', line: 1, col: 1 },
  };
}

interface Spec {
  alert: string;
  labels: Record<string, string>;
  key?: string;
  state: AlertState;
  health?: Health;
  measured?: boolean;
  /** Omitted: a measured series with default numbers; null: no evidence at all. */
  evidence?: Partial<Evidence> | null;
  acceptedAt?: number;
}

function alertSeries(s: Spec): AlertSeries {
  const key = s.key ?? '';
  const id = seriesId(s.alert, key === '' ? s.labels : { ...s.labels, tool: key });
  const evidence: Evidence | undefined =
    s.evidence === null
      ? undefined
      : { current: 2, baseline: 1, deviation: 1, isNew: false, currentRuns: 40, baselineRuns: 400, contributors: [], exampleRunIds: [], pValue: null, ...s.evidence };
  return {
    id,
    alert: s.alert,
    key,
    labels: s.labels,
    record: {
      state: s.state,
      activeAt: null,
      firedAt: null,
      resolvedAt: null,
      lastEvalAt: AT,
      health: s.health ?? (s.state === 'nodata' ? 'nodata' : s.state === 'error' ? 'error' : 'ok'),
      lastError: null,
    },
    ...(evidence ? { evidence } : {}),
    measured: s.measured ?? true,
    ...(s.acceptedAt !== undefined ? { accepted: { at: s.acceptedAt, reason: 'new normal', baseline: 1, until: s.acceptedAt + 86_400_000 } } : {}),
  };
}

const RULES = [
  rule('ToolCallsDrift', 'tool_calls_per_run', 'page'),
  rule('CostDrift', 'cost_per_success'),
  rule('SchemaShift', 'output_schema_shift', 'ticket'),
  rule(`VeryLongRuleName_${'r'.repeat(140)}`, 'policy_activation_rate', `sev-${'s'.repeat(130)}`),
];

/**
 * Series of four rules, interleaved (the export groups them by rule in order of first appearance):
 * every state, measured and not, two series exporting the same labels, a failed query keeping its numbers, a new key (+Inf), NaN and null
 * values, an acceptance, label values to escape and to bound, a rule over the cap of 4 (sorted:
 * active first, then |deviation|, then id), a rule no longer loaded.
 */
const SPECS: Spec[] = [
  { alert: 'ToolCallsDrift', labels: { workflow_id: 'checkout' }, key: 'search', state: 'firing', evidence: { deviation: 0.7, pValue: 0.001 } },
  { alert: 'CostDrift', labels: { agent_id: 'a1', environment: 'prod' }, state: 'resolved', evidence: { current: 1.5, baseline: 1.5, deviation: 0 }, acceptedAt: AT - 86_400_000 },
  { alert: 'ToolCallsDrift', labels: { workflow_id: 'billing' }, key: 'refund', state: 'pending', evidence: { current: 3, baseline: null, deviation: null, isNew: true } },
  { alert: 'ToolCallsDrift', labels: { workflow_id: 'billing' }, key: 'search', state: 'inactive', evidence: { deviation: -0.3 } },
  { alert: 'Gone', labels: { workflow_id: 'checkout' }, state: 'firing' },
  { alert: 'ToolCallsDrift', labels: { workflow_id: 'support' }, key: 'search', state: 'inactive', evidence: { deviation: 0.3 } },
  { alert: 'ToolCallsDrift', labels: { workflow_id: 'support' }, key: 'refund', state: 'inactive', evidence: { deviation: 0.3 } },
  { alert: 'ToolCallsDrift', labels: { workflow_id: 'intake' }, key: 'search', state: 'nodata', measured: false, evidence: { deviation: 5 } },
  { alert: 'ToolCallsDrift', labels: { workflow_id: 'returns' }, key: 'search', state: 'inactive', evidence: { deviation: Number.NaN, current: Number.NaN, pValue: Number.NaN } },
  { alert: 'CostDrift', labels: { agent_id: 'a2', environment: 'prod' }, state: 'error', measured: false, evidence: { deviation: 0.05, pValue: 0.2 } },
  { alert: 'CostDrift', labels: { agent_id: 'a3', environment: 'staging' }, state: 'nodata', measured: false, evidence: null },
  { alert: 'CostDrift', labels: { agent_id: 'a4' }, state: 'firing', health: 'error', measured: false, evidence: { deviation: 2.5, currentRuns: 7, baselineRuns: 0 } },
  { alert: 'SchemaShift', labels: { workflow_id: 'quote"back\\slash\nnewline', model: 'gpt-ü-🙂' }, state: 'inactive', evidence: { current: 0.12, baseline: null, deviation: 0.12 } },
  { alert: 'SchemaShift', labels: { workflow_id: `run-${'x'.repeat(150)}`, tenant_id: 't1' }, state: 'pending', evidence: { current: 0.4, baseline: null, deviation: 0.4, pValue: 1e-12 } },
  { alert: RULES[3]!.alert, labels: { workflow_id: 'w' }, key: 'k'.repeat(129), state: 'resolved', evidence: { current: 1e21, baseline: -0, deviation: -1 } },
  { alert: 'ToolCallsDrift', labels: { workflow_id: 'zeta' }, key: 'search', state: 'inactive', measured: false, evidence: null },
  // Two series with the same exported labels (a label that is no dimension column is not exported):
  // one sample per gauge, at the first one's place with the last one's value; two alert states.
  { alert: 'SchemaShift', labels: { workflow_id: 'dup' }, state: 'inactive', evidence: { current: 0.1, baseline: null, deviation: 0.1, pValue: 0.5 } },
  { alert: 'SchemaShift', labels: { workflow_id: 'dup', extra: 'x' }, state: 'firing', evidence: { current: 0.9, baseline: null, deviation: 0.9 } },
];

/** SPECS without a repeated label set: the rules' texts are kept from one scrape to the next. */
const UNIQUE_SPECS = SPECS.filter((s) => s.labels.extra === undefined);

/** A fake engine whose alert state counts how often it is read and walked. */
function countingSource(specs: readonly Spec[] = SPECS) {
  const map = new Map(specs.map((s) => [alertSeries(s).id, alertSeries(s)]));
  const counts = { reads: 0, walks: 0 };
  const alertStates: ReadonlyMap<string, AlertSeries> = new Proxy(map, {
    get(target, prop) {
      if (prop === 'values' || prop === 'entries' || prop === Symbol.iterator || prop === 'forEach') counts.walks++;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const source: MetricsSource = {
    get alertStates() {
      counts.reads++;
      return alertStates;
    },
    rules: new Map(RULES.map((r) => [r.alert, r])),
    pendingNotifications: () => 3,
  };
  return { source, counts, map };
}

function metrics(source: MetricsSource): DriftMetrics {
  const m = new DriftMetrics({ defaultMetrics: false, maxSeriesPerRule: 4 });
  m.readStateFrom(source);
  return m;
}

const SERIES_GAUGES = [
  'agentdrift_signal_current_value',
  'agentdrift_signal_baseline_value',
  'agentdrift_signal_deviation_ratio',
  'agentdrift_signal_runs',
  'agentdrift_signal_p_value',
  'agentdrift_alert_state',
  'agentdrift_alert_accepted_timestamp_seconds',
];

/** The alertstate label of the sample of workflow `wf` in a text. */
function stateOf(text: string, wf: string): string[] {
  return [...text.matchAll(new RegExp(`^agentdrift_alert_state\\{.*workflow_id="${wf}".*alertstate="(\\w+)"\\} 1$`, 'gm'))].map((m) => m[1]!);
}

/** The deviation sample of workflow `wf` in a text. */
function deviationOf(text: string, wf: string): string[] {
  return [...text.matchAll(new RegExp(`^agentdrift_signal_deviation_ratio\\{.*workflow_id="${wf}".*\\} (\\S+)$`, 'gm'))].map((m) => m[1]!);
}

/** Steps one series as the engine does: a new object in the map, under the same id. */
function restate(map: Map<string, AlertSeries>, wf: string, state: AlertState, deviation?: number): void {
  const [id, s] = [...map].find(([, v]) => v.labels.workflow_id === wf || v.labels.agent_id === wf)!;
  const evidence = deviation === undefined ? s.evidence : { ...s.evidence!, deviation };
  map.set(id, { ...s, labels: { ...s.labels }, record: { ...s.record, state }, ...(evidence ? { evidence } : {}) });
}

describe('a scrape of the per-series gauges', () => {
  it('is the text it was before one snapshot served every gauge (golden)', async () => {
    const m = metrics(countingSource().source);
    const text = await m.metricsText();
    expect(text.split('\n')).toEqual(GOLDEN_LINES);
    expect(text).toBe(GOLDEN_LINES.join('\n'));
    // Again, from the label texts the first scrape kept (SPECS repeats a label set, so no rule's text
    // is kept whole: the next test covers that).
    expect(await m.metricsText()).toBe(text);
    expect(await m.metricsText()).toBe(text);
    // And through prom-client (the gauges' collect()).
    expect(await m.registry.metrics()).toBe(text);
  });

  it('writes a rule anew once its series changed, and reuses the text of the others', async () => {
    const { source, map } = countingSource(UNIQUE_SPECS);
    const m = metrics(source);
    const expected = await m.registry.metrics();
    for (let i = 0; i < 3; i++) expect(await m.metricsText()).toBe(expected);
    restate(map, 'checkout', 'resolved', 0.75);
    restate(map, 'a2', 'error');
    const changed = await m.registry.metrics();
    expect(changed).not.toBe(expected);
    for (let i = 0; i < 3; i++) {
      const text = await m.metricsText();
      expect(stateOf(text, 'checkout')).toEqual(['resolved']);
      expect(deviationOf(text, 'checkout')).toEqual(['0.75']);
      expect(text).toBe(changed);
    }
    // Back as it was.
    restate(map, 'checkout', 'firing', 0.7);
    for (let i = 0; i < 3; i++) expect(await m.metricsText()).toBe(expected);
  });

  it('walks the engine\'s alert state once per scrape, for all seven gauges', async () => {
    const { source, counts } = countingSource();
    const m = metrics(source);
    await m.metricsText();
    expect(counts).toEqual({ reads: 1, walks: 1 });
    await m.metricsText();
    expect(counts).toEqual({ reads: 2, walks: 2 });
  });

  it('walks it once when prom-client scrapes the registry itself, in any order of the gauges', async () => {
    const { source, counts } = countingSource();
    const m = metrics(source);
    await m.registry.metrics();
    expect(counts.walks).toBe(1);
    await m.registry.getMetricsAsJSON();
    expect(counts.walks).toBe(2);
    // The gauges collected one by one, backwards, in one turn: still one scrape, one walk.
    const reversed = await Promise.all([...SERIES_GAUGES].reverse().map((n) => m.registry.getSingleMetricAsString(n)));
    expect(counts.walks).toBe(3);
    expect(reversed.reverse().join('\n\n')).toBe(GOLDEN_LINES.join('\n').split('\n\n').filter((f) => SERIES_GAUGES.some((n) => f.startsWith(`# HELP ${n} `))).join('\n\n'));
  });

  it('gives two overlapping scrapes a snapshot each, whichever way they are taken', async () => {
    const { source, counts, map } = countingSource();
    const m = metrics(source);
    const first = m.metricsText();
    restate(map, 'checkout', 'resolved');
    const second = m.metricsText();
    expect(stateOf(await first, 'checkout')).toEqual(['firing']);
    expect(stateOf(await second, 'checkout')).toEqual(['resolved']);

    // prom-client's own scrape: a gauge collected a second time starts the next snapshot.
    const third = m.registry.metrics();
    restate(map, 'checkout', 'firing');
    const fourth = m.registry.metrics();
    const [t3, t4] = await Promise.all([third, fourth]);
    expect(stateOf(t3, 'checkout')).toEqual(['resolved']);
    expect(stateOf(t4, 'checkout')).toEqual(['firing']);
    expect(t4).toBe(GOLDEN_LINES.join('\n'));

    // One gauge alone, then (a later turn) every gauge: the state is read again, not reused.
    await m.registry.getSingleMetricAsString('agentdrift_alert_state');
    restate(map, 'checkout', 'pending', 0.9);
    const fifth = await m.registry.metrics();
    expect(stateOf(fifth, 'checkout')).toEqual(['pending']);
    expect(deviationOf(fifth, 'checkout')).toEqual(['0.9']);
    expect(counts.walks).toBe(6);
  });

  it('writes the labels a reloaded rule has now, and a re-stepped series as before', async () => {
    const { source, map } = countingSource(UNIQUE_SPECS);
    const m = metrics(source);
    await m.metricsText();
    const before = await m.metricsText();
    // Every series stepped again (new objects, same labels): the same text.
    for (const [id, s] of [...map]) map.set(id, { ...s, labels: { ...s.labels } });
    expect(await m.metricsText()).toBe(before);
    expect(await m.metricsText()).toBe(before);
    // A reload that changes a rule's severity (a new rule object under the same name).
    (source.rules as Map<string, Rule>).set('ToolCallsDrift', rule('ToolCallsDrift', 'tool_calls_per_run', 'ticket'));
    const after = await m.metricsText();
    expect(after).not.toContain('rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="checkout",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page"');
    expect(after).toContain('workflow_id="checkout",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket",alertstate="firing"} 1');
    expect(after).toBe(await m.registry.metrics());
    // The same id with other labels (the engine derives ids from labels; the cache does not rely on it).
    const [id, s] = [...map].find(([, v]) => v.labels.workflow_id === 'billing' && v.key === 'search')!;
    map.set(id, { ...s, labels: { workflow_id: 'renamed' } });
    expect(await m.metricsText()).toContain('key="search",workflow_id="renamed",');
  });

  it('exports no series before it has a source, as prom-client would', async () => {
    const m = new DriftMetrics({ defaultMetrics: false });
    const text = await m.metricsText();
    expect(text).toBe(await m.registry.metrics());
    for (const n of SERIES_GAUGES) expect(text).toContain(`# TYPE ${n} gauge\n\n`);
  });

  it('writes the process metrics as prom-client does, between and around its own', async () => {
    const m = new DriftMetrics({ maxSeriesPerRule: 4 });
    m.readStateFrom(countingSource().source);
    // The process metrics' values move between two scrapes; their names, labels and order do not.
    const shape = (t: string) => t.split('\n').map((l) => (l.startsWith('#') ? l : l.replace(/ \S+$/, '')));
    expect(shape(await m.metricsText())).toEqual(shape(await m.registry.metrics()));
  });

  const { skip, reason } = prometheusSkip('promtool');
  it.skipIf(skip)(`passes promtool check metrics${skip ? ` (skipped: ${reason})` : ''}`, async () => {
    const m = new DriftMetrics({ maxSeriesPerRule: 4 });
    m.readStateFrom(countingSource().source);
    const { status, output } = promtoolCheckMetrics(await m.metricsText());
    expect(output).toBe('');
    expect(status).toBe(0);
  });
});

/**
 * The text of a scrape of SPECS (maxSeriesPerRule 4, no process metrics), as the registry wrote it
 * before the change (each gauge walking the series itself, prom-client formatting every sample), one
 * element per line: the last, empty one is the final newline.
 */
const GOLDEN_LINES: readonly string[] = [
  '# HELP agentdrift_signal_current_value Value of the rule\'s signal in the current window, per group and key (unit depends on the signal).',
  '# TYPE agentdrift_signal_current_value gauge',
  'agentdrift_signal_current_value{rule="ToolCallsDrift",signal="tool_calls_per_run",key="refund",workflow_id="billing",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page"} 3',
  'agentdrift_signal_current_value{rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="checkout",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page"} 2',
  'agentdrift_signal_current_value{rule="ToolCallsDrift",signal="tool_calls_per_run",key="refund",workflow_id="support",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page"} 2',
  'agentdrift_signal_current_value{rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="billing",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page"} 2',
  'agentdrift_signal_current_value{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a1",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity=""} 1.5',
  'agentdrift_signal_current_value{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a2",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity=""} 2',
  'agentdrift_signal_current_value{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a4",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity=""} 2',
  'agentdrift_signal_current_value{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="quote\\"back\\\\slash\\nnewline",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="gpt-ü-🙂",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket"} 0.12',
  'agentdrift_signal_current_value{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="run-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx~0e688ca2",agent_id="",agent_version="",tenant_id="t1",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket"} 0.4',
  'agentdrift_signal_current_value{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="dup",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket"} 0.9',
  'agentdrift_signal_current_value{rule="VeryLongRuleName_rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr~2b15c241",signal="policy_activation_rate",key="kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk~9094034f",workflow_id="w",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="sev-sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss~2f8a3d8d"} 1e+21',
  '',
  '# HELP agentdrift_signal_baseline_value Value of the rule\'s signal in the baseline, per group and key (same unit as the current value).',
  '# TYPE agentdrift_signal_baseline_value gauge',
  'agentdrift_signal_baseline_value{rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="checkout",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page"} 1',
  'agentdrift_signal_baseline_value{rule="ToolCallsDrift",signal="tool_calls_per_run",key="refund",workflow_id="support",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page"} 1',
  'agentdrift_signal_baseline_value{rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="billing",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page"} 1',
  'agentdrift_signal_baseline_value{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a1",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity=""} 1.5',
  'agentdrift_signal_baseline_value{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a2",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity=""} 1',
  'agentdrift_signal_baseline_value{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a4",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity=""} 1',
  'agentdrift_signal_baseline_value{rule="VeryLongRuleName_rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr~2b15c241",signal="policy_activation_rate",key="kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk~9094034f",workflow_id="w",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="sev-sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss~2f8a3d8d"} 0',
  '',
  '# HELP agentdrift_signal_deviation_ratio Relative change of the current value against the baseline (0.2 = +20%), or the effect size for distribution signals; +Inf for a key new in the current window.',
  '# TYPE agentdrift_signal_deviation_ratio gauge',
  'agentdrift_signal_deviation_ratio{rule="ToolCallsDrift",signal="tool_calls_per_run",key="refund",workflow_id="billing",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page"} +Inf',
  'agentdrift_signal_deviation_ratio{rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="checkout",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page"} 0.7',
  'agentdrift_signal_deviation_ratio{rule="ToolCallsDrift",signal="tool_calls_per_run",key="refund",workflow_id="support",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page"} 0.3',
  'agentdrift_signal_deviation_ratio{rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="billing",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page"} -0.3',
  'agentdrift_signal_deviation_ratio{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a1",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity=""} 0',
  'agentdrift_signal_deviation_ratio{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a2",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity=""} 0.05',
  'agentdrift_signal_deviation_ratio{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a4",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity=""} 2.5',
  'agentdrift_signal_deviation_ratio{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="quote\\"back\\\\slash\\nnewline",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="gpt-ü-🙂",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket"} 0.12',
  'agentdrift_signal_deviation_ratio{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="run-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx~0e688ca2",agent_id="",agent_version="",tenant_id="t1",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket"} 0.4',
  'agentdrift_signal_deviation_ratio{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="dup",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket"} 0.9',
  'agentdrift_signal_deviation_ratio{rule="VeryLongRuleName_rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr~2b15c241",signal="policy_activation_rate",key="kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk~9094034f",workflow_id="w",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="sev-sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss~2f8a3d8d"} -1',
  '',
  '# HELP agentdrift_signal_runs Agent runs behind the signal value, in the current window or the baseline.',
  '# TYPE agentdrift_signal_runs gauge',
  'agentdrift_signal_runs{rule="ToolCallsDrift",signal="tool_calls_per_run",key="refund",workflow_id="billing",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page",window="current"} 40',
  'agentdrift_signal_runs{rule="ToolCallsDrift",signal="tool_calls_per_run",key="refund",workflow_id="billing",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page",window="baseline"} 400',
  'agentdrift_signal_runs{rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="checkout",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page",window="current"} 40',
  'agentdrift_signal_runs{rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="checkout",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page",window="baseline"} 400',
  'agentdrift_signal_runs{rule="ToolCallsDrift",signal="tool_calls_per_run",key="refund",workflow_id="support",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page",window="current"} 40',
  'agentdrift_signal_runs{rule="ToolCallsDrift",signal="tool_calls_per_run",key="refund",workflow_id="support",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page",window="baseline"} 400',
  'agentdrift_signal_runs{rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="billing",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page",window="current"} 40',
  'agentdrift_signal_runs{rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="billing",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page",window="baseline"} 400',
  'agentdrift_signal_runs{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a1",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="",window="current"} 40',
  'agentdrift_signal_runs{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a1",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="",window="baseline"} 400',
  'agentdrift_signal_runs{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a2",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="",window="current"} 40',
  'agentdrift_signal_runs{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a2",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="",window="baseline"} 400',
  'agentdrift_signal_runs{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a4",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="",window="current"} 7',
  'agentdrift_signal_runs{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a4",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="",window="baseline"} 0',
  'agentdrift_signal_runs{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="quote\\"back\\\\slash\\nnewline",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="gpt-ü-🙂",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket",window="current"} 40',
  'agentdrift_signal_runs{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="quote\\"back\\\\slash\\nnewline",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="gpt-ü-🙂",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket",window="baseline"} 400',
  'agentdrift_signal_runs{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="run-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx~0e688ca2",agent_id="",agent_version="",tenant_id="t1",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket",window="current"} 40',
  'agentdrift_signal_runs{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="run-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx~0e688ca2",agent_id="",agent_version="",tenant_id="t1",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket",window="baseline"} 400',
  'agentdrift_signal_runs{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="dup",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket",window="current"} 40',
  'agentdrift_signal_runs{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="dup",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket",window="baseline"} 400',
  'agentdrift_signal_runs{rule="VeryLongRuleName_rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr~2b15c241",signal="policy_activation_rate",key="kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk~9094034f",workflow_id="w",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="sev-sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss~2f8a3d8d",window="current"} 40',
  'agentdrift_signal_runs{rule="VeryLongRuleName_rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr~2b15c241",signal="policy_activation_rate",key="kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk~9094034f",workflow_id="w",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="sev-sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss~2f8a3d8d",window="baseline"} 400',
  '',
  '# HELP agentdrift_signal_p_value Holm-adjusted p-value of the significance test of the series; absent when no test ran.',
  '# TYPE agentdrift_signal_p_value gauge',
  'agentdrift_signal_p_value{rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="checkout",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page"} 0.001',
  'agentdrift_signal_p_value{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a2",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity=""} 0.2',
  'agentdrift_signal_p_value{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="run-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx~0e688ca2",agent_id="",agent_version="",tenant_id="t1",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket"} 1e-12',
  'agentdrift_signal_p_value{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="dup",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket"} 0.5',
  '',
  '# HELP agentdrift_alert_state Current state of the alert series (inactive, pending, firing, resolved, nodata or error): 1 for the current state only.',
  '# TYPE agentdrift_alert_state gauge',
  'agentdrift_alert_state{rule="ToolCallsDrift",signal="tool_calls_per_run",key="refund",workflow_id="billing",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page",alertstate="pending"} 1',
  'agentdrift_alert_state{rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="checkout",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page",alertstate="firing"} 1',
  'agentdrift_alert_state{rule="ToolCallsDrift",signal="tool_calls_per_run",key="refund",workflow_id="support",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page",alertstate="inactive"} 1',
  'agentdrift_alert_state{rule="ToolCallsDrift",signal="tool_calls_per_run",key="search",workflow_id="billing",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="page",alertstate="inactive"} 1',
  'agentdrift_alert_state{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a1",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="",alertstate="resolved"} 1',
  'agentdrift_alert_state{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a2",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="",alertstate="error"} 1',
  'agentdrift_alert_state{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a3",agent_version="",tenant_id="",environment="staging",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="",alertstate="nodata"} 1',
  'agentdrift_alert_state{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a4",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="",alertstate="firing"} 1',
  'agentdrift_alert_state{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="quote\\"back\\\\slash\\nnewline",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="gpt-ü-🙂",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket",alertstate="inactive"} 1',
  'agentdrift_alert_state{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="run-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx~0e688ca2",agent_id="",agent_version="",tenant_id="t1",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket",alertstate="pending"} 1',
  'agentdrift_alert_state{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="dup",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket",alertstate="inactive"} 1',
  'agentdrift_alert_state{rule="SchemaShift",signal="output_schema_shift",key="",workflow_id="dup",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="ticket",alertstate="firing"} 1',
  'agentdrift_alert_state{rule="VeryLongRuleName_rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr~2b15c241",signal="policy_activation_rate",key="kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk~9094034f",workflow_id="w",agent_id="",agent_version="",tenant_id="",environment="",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity="sev-sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss~2f8a3d8d",alertstate="resolved"} 1',
  '',
  '# HELP agentdrift_alert_accepted_timestamp_seconds When an operator accepted the series\' value as the new normal (agentdrift accept), while that acceptance is in force.',
  '# TYPE agentdrift_alert_accepted_timestamp_seconds gauge',
  'agentdrift_alert_accepted_timestamp_seconds{rule="CostDrift",signal="cost_per_success",key="",workflow_id="",agent_id="a1",agent_version="",tenant_id="",environment="prod",service_name="",model="",prompt_version="",policy_version="",outcome="",attributes="",severity=""} 1795230000',
  '',
  '# HELP agentdrift_group_evaluation_duration_seconds Wall time of one evaluation of a rule group.',
  '# TYPE agentdrift_group_evaluation_duration_seconds histogram',
  '',
  '# HELP agentdrift_group_evaluations_total Evaluations of a rule group, successful or not.',
  '# TYPE agentdrift_group_evaluations_total counter',
  '',
  '# HELP agentdrift_group_evaluation_failures_total Evaluations of a rule group in which at least one rule failed.',
  '# TYPE agentdrift_group_evaluation_failures_total counter',
  '',
  '# HELP agentdrift_group_last_success_timestamp_seconds Unix time of the evaluation time of the last fully successful evaluation of a rule group.',
  '# TYPE agentdrift_group_last_success_timestamp_seconds gauge',
  '',
  '# HELP agentdrift_group_skipped_evaluations_total Ticks of a rule group skipped because its previous evaluation was still running.',
  '# TYPE agentdrift_group_skipped_evaluations_total counter',
  '',
  '# HELP agentdrift_rule_evaluations_total Rule evaluations completed in a rule group (successful or with a query error).',
  '# TYPE agentdrift_rule_evaluations_total counter',
  '',
  '# HELP agentdrift_rule_evaluations_skipped_total Scheduled rule evaluations not done, per rule and reason: timeout (the group ran out of time), overlap (the tick was skipped), shutdown.',
  '# TYPE agentdrift_rule_evaluations_skipped_total counter',
  '',
  '# HELP agentdrift_rules_loaded Rules in the rule set currently being evaluated.',
  '# TYPE agentdrift_rules_loaded gauge',
  'agentdrift_rules_loaded 0',
  '',
  "# HELP agentdrift_rule_threshold Each loaded rule's threshold: kind relative (0.2 = a 20% change), or an absolute limit (kind above or below) in the signal's unit, to draw beside agentdrift_signal_current_value.",
  '# TYPE agentdrift_rule_threshold gauge',
  '',
  '# HELP agentdrift_rule_reloads_total Rule reloads by result; a failed reload keeps the previous rules running.',
  '# TYPE agentdrift_rule_reloads_total counter',
  'agentdrift_rule_reloads_total{result="success"} 0',
  'agentdrift_rule_reloads_total{result="failure"} 0',
  '',
  '# HELP agentdrift_series_overflow_total Series of a rule not exported because the rule had more series than the per-rule cap, summed over evaluations.',
  '# TYPE agentdrift_series_overflow_total counter',
  '',
  '# HELP agentdrift_notifications_total Notifications delivered, per receiver and integration.',
  '# TYPE agentdrift_notifications_total counter',
  '',
  '# HELP agentdrift_notifications_failed_total Notifications given up on (a permanent failure, or the last retry failed), per receiver, integration and reason; failed attempts that are retried count in agentdrift_notification_attempts_failed_total.',
  '# TYPE agentdrift_notifications_failed_total counter',
  '',
  '# HELP agentdrift_notification_attempts_failed_total Failed delivery attempts, retried or not, per receiver, integration and reason.',
  '# TYPE agentdrift_notification_attempts_failed_total counter',
  '',
  '# HELP agentdrift_notification_retries_total Delivery attempts of notifications that were retried after a recoverable failure.',
  '# TYPE agentdrift_notification_retries_total counter',
  '',
  '# HELP agentdrift_notifications_pending Notifications waiting to be delivered or retried.',
  '# TYPE agentdrift_notifications_pending gauge',
  'agentdrift_notifications_pending 3',
  '',
  '# HELP agentdrift_clickhouse_up Whether the last ClickHouse health check succeeded (1) or not (0).',
  '# TYPE agentdrift_clickhouse_up gauge',
  'agentdrift_clickhouse_up 0',
  '',
  '# HELP agentdrift_state_persist_failures_total Failed writes of the state file or its delivery journal; while the last one failed, /readyz fails.',
  '# TYPE agentdrift_state_persist_failures_total counter',
  'agentdrift_state_persist_failures_total 0',
  '',
  '# HELP agentdrift_state_last_persist_success_timestamp_seconds Unix time (daemon clock) of the last successful save of the state file.',
  '# TYPE agentdrift_state_last_persist_success_timestamp_seconds gauge',
  'agentdrift_state_last_persist_success_timestamp_seconds 0',
  '',
  '# HELP agentdrift_malformed_runs Agent runs with at least one attribute that could not be parsed, as last counted in ClickHouse.',
  '# TYPE agentdrift_malformed_runs gauge',
  'agentdrift_malformed_runs 0',
  '',
];
