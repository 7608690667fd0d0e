/**
 * The read side of /api/v1 (and the data of every web UI page): what the daemon knows about alerts,
 * rules, explanations, evaluations, transitions, and backtests of its rules. Each answer is plain JSON
 * with ISO times; the UI's HTML handlers call these same functions, so a page shows exactly what the
 * API returns. The daemon hands its parts in as `ApiSources` (wired in daemon/compose.ts); nothing here
 * owns state.
 */
import type { AlertSeries } from '../alerting/state.js';
import type { AlertState } from '../alerting/types.js';
import type { ActivityLog } from '../engine/activity.js';
import type { BacktestResult } from '../engine/backtest.js';
import type { Explanation } from '../explain/types.js';
import type { Rule, RuleSet } from '../rules/types.js';
import { deviationKindOf } from '../signals/deviationKind.js';
import { ERR, type ErrorCode } from '../util/errors.js';
import { isoOrNull } from '../util/format.js';

export interface ApiSources {
  /** Every alert series, read at the moment of asking (the engine's map). */
  readonly alertStates: () => ReadonlyMap<string, AlertSeries>;
  /** The loaded rules, by alert name. */
  readonly rules: () => ReadonlyMap<string, Rule>;
  readonly ruleSet: () => RuleSet | null;
  readonly activity: Pick<ActivityLog, 'since' | 'rule' | 'groups' | 'recent' | 'valuesOf'>;
  /** The full explanation of a series as of `at`, with its hourly values (ClickHouse queries). */
  readonly explain: (rule: Rule, labels: Readonly<Record<string, string>>, key: string, at: number) => Promise<Explanation>;
  /** Replays `rules` over [fromMs, toMs] every `stepMs`, sending nothing (engine/backtest.ts). */
  readonly backtest: (rules: RuleSet, fromMs: number, toMs: number, stepMs: number) => Promise<BacktestResult>;
  readonly now: () => number;
}

/**
 * An API error: a catalogue code (its HTTP status from util/errors.ts) and a message for the user.
 * Not exported: it is each of those kinds in turn, made by the functions below, and the catalogue's
 * test lists exported error classes by the one code each carries.
 */
class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly errorCode: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type { ApiError };
export const badRequest = (message: string): ApiError => new ApiError(ERR.USAGE, message);
export const unknownRule = (alert: string): ApiError => new ApiError(ERR.UNKNOWN_RULE, `no rule named ${JSON.stringify(alert.slice(0, 200))} is loaded`);
export const noSuchSeries = (message: string): ApiError => new ApiError(ERR.NO_SUCH_SERIES, message);
export const noRules = (): ApiError => new ApiError(ERR.INVALID_RULES, 'no rules are loaded yet');

export const STATES: readonly AlertState[] = ['firing', 'pending', 'resolved', 'inactive', 'nodata', 'error'];
/** What the alerts list shows unless asked otherwise: inactive series are most of a big rule set. */
export const DEFAULT_STATES: readonly AlertState[] = ['firing', 'pending', 'resolved', 'nodata', 'error'];
/** Resolved series count as "recently resolved" for this long, also once they are inactive again. */
export const RECENTLY_RESOLVED_MS = 24 * 3_600_000;
export const MAX_LIMIT = 1_000;

const SEVERITY_ORDER: Readonly<Record<string, number>> = { critical: 0, page: 0, error: 1, warning: 2, info: 3 };
const STATE_ORDER: Readonly<Record<string, number>> = { firing: 0, pending: 1, error: 2, nodata: 3, resolved: 4, inactive: 5 };

/** `/alerts/<name>?label=value&...`: the UI page of a series (labels sorted, so one series has one URL). */
export function seriesPath(prefix: string, alert: string, labels: Readonly<Record<string, string>>): string {
  const q = new URLSearchParams(Object.keys(labels).sort().map((k) => [k, labels[k]!]));
  const qs = q.toString();
  return `${prefix}/${encodeURIComponent(alert)}${qs ? `?${qs}` : ''}`;
}

/** The state a list shows: a series resolved within RECENTLY_RESOLVED_MS reads `resolved` even once inactive. */
function shownState(s: AlertSeries, now: number): AlertState {
  const r = s.record;
  if (r.state === 'inactive' && r.resolvedAt !== null && now - r.resolvedAt <= RECENTLY_RESOLVED_MS) return 'resolved';
  return r.state;
}

export function seriesJson(s: AlertSeries, rule: Rule | undefined, now: number, activity?: ApiSources['activity']) {
  const ev = s.evidence;
  // A distance compares the windows (no baseline value of its own); an absolute limit needs none.
  const kind = rule === undefined ? 'relative' : deviationKindOf(rule, s.key);
  return {
    id: s.id,
    alertname: s.alert,
    labels: s.labels,
    state: shownState(s, now),
    health: s.record.health,
    severity: rule?.labels.severity ?? null,
    signal: rule?.signal ?? null,
    active_at: isoOrNull(s.record.activeAt),
    fired_at: isoOrNull(s.record.firedAt),
    resolved_at: isoOrNull(s.record.resolvedAt),
    last_evaluation: isoOrNull(s.record.lastEvalAt),
    value: ev?.current ?? null,
    baseline: kind !== 'relative' ? null : s.record.state === 'firing' && s.frozenBaseline !== undefined ? s.frozenBaseline : (ev?.baseline ?? null),
    deviation: ev?.deviation ?? null,
    /** relative (a change against the baseline), js_distance or unseen_share (the value is the distance). */
    deviation_kind: kind,
    is_new: kind === 'relative' && (ev?.isNew ?? false),
    threshold: rule?.threshold ?? null,
    /** An absolute threshold ({ above: 25 }): the value is compared with it, not with the baseline. */
    limit: rule?.absolute === undefined ? null : { bound: rule.absolute.bound, value: rule.absolute.value },
    current_runs: ev?.currentRuns ?? null,
    baseline_runs: ev?.baselineRuns ?? null,
    p_value: ev?.pValue ?? null,
    frozen_baseline: s.record.state === 'firing' ? (s.frozenBaseline ?? null) : null,
    accepted: s.accepted === undefined ? null : { at: isoOrNull(s.accepted.at), reason: s.accepted.reason, baseline: s.accepted.baseline, until: isoOrNull(s.accepted.until) },
    annotations: s.annotations ?? {},
    summary: ev?.explanation ?? null,
    example_run_ids: ev?.exampleRunIds ?? [],
    last_error: s.record.lastError,
    /** The values of this series' evaluations since the daemon started (a sparkline's points). */
    recent_values: (activity?.valuesOf(s.id) ?? []).map((p) => ({ at: isoOrNull(p.at), value: p.value, baseline: p.baseline })),
    url: seriesPath('/alerts', s.alert, s.labels),
    api_url: seriesPath('/api/v1/alerts', s.alert, s.labels),
  };
}

export type SeriesJson = ReturnType<typeof seriesJson>;

export interface AlertsQuery {
  readonly states: readonly AlertState[];
  readonly alertname: string | null;
  readonly limit: number;
  readonly offset: number;
}

function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return dflt;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw badRequest(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw.slice(0, 40))}`);
  return Number(raw);
}

export function alertsQueryOf(q: URLSearchParams): AlertsQuery {
  const rawStates = q.getAll('state').flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  for (const s of rawStates) if (!STATES.includes(s as AlertState)) throw badRequest(`state must be one of ${STATES.join(', ')}; got ${JSON.stringify(s.slice(0, 40))}`);
  return {
    states: rawStates.length > 0 ? (rawStates as AlertState[]) : DEFAULT_STATES,
    alertname: q.get('alertname') || null,
    limit: intParam(q, 'limit', 100, 1, MAX_LIMIT),
    offset: intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
  };
}

/** GET /api/v1/alerts: series in the asked states (default: all but inactive), most urgent first, one page. */
export function listAlerts(src: ApiSources, query: AlertsQuery) {
  const now = src.now();
  const rules = src.rules();
  const counts: Record<AlertState, number> = { firing: 0, pending: 0, resolved: 0, inactive: 0, nodata: 0, error: 0 };
  const picked: { s: AlertSeries; state: AlertState; rule: Rule }[] = [];
  for (const s of src.alertStates().values()) {
    const rule = rules.get(s.alert);
    // Loaded rules only, as /metrics: a removed rule's series wait out their grace unseen.
    if (rule === undefined || (query.alertname !== null && s.alert !== query.alertname)) continue;
    const state = shownState(s, now);
    counts[state]++;
    if (query.states.includes(state)) picked.push({ s, state, rule });
  }
  const sev = (r: Rule) => SEVERITY_ORDER[r.labels.severity ?? ''] ?? 4;
  picked.sort(
    (a, b) =>
      STATE_ORDER[a.state]! - STATE_ORDER[b.state]! ||
      sev(a.rule) - sev(b.rule) ||
      (a.state === 'resolved' ? (b.s.record.resolvedAt ?? 0) - (a.s.record.resolvedAt ?? 0) : (a.s.record.activeAt ?? 0) - (b.s.record.activeAt ?? 0)) ||
      (a.s.id < b.s.id ? -1 : a.s.id > b.s.id ? 1 : 0),
  );
  const page = picked.slice(query.offset, query.offset + query.limit);
  return {
    generated_at: new Date(now).toISOString(),
    states: query.states,
    counts,
    total: picked.length,
    offset: query.offset,
    limit: query.limit,
    alerts: page.map((p) => seriesJson(p.s, p.rule, now, src.activity)),
  };
}

/** The rule named `alert`, or a 404. */
export function ruleNamed(src: ApiSources, alert: string): Rule {
  const rule = src.rules().get(alert);
  if (rule === undefined) throw unknownRule(alert);
  return rule;
}

/** The series of `alert` whose labels are exactly `labels` (the query string of its URL), or a 404. */
export function findSeries(src: ApiSources, alert: string, labels: Readonly<Record<string, string>>): { rule: Rule; series: AlertSeries } {
  const rule = ruleNamed(src, alert);
  const want = Object.entries(labels);
  let count = 0;
  for (const s of src.alertStates().values()) {
    if (s.alert !== alert) continue;
    count++;
    if (Object.keys(s.labels).length === want.length && want.every(([k, v]) => s.labels[k] === v)) return { rule, series: s };
  }
  const asked = want.map(([k, v]) => `${k}=${v}`).join(', ') || 'no labels';
  throw noSuchSeries(`${alert} has no series with exactly ${asked} (it has ${count}; the labels are the query string, e.g. ?workflow_id=...)`);
}

export function labelsOf(q: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of q) {
    if (k in out) throw badRequest(`label ${JSON.stringify(k.slice(0, 80))} is given more than once`);
    out[k] = v;
  }
  return out;
}

/** GET /api/v1/alerts/<name>?labels: one series, with its rule's facts. */
export function alertDetail(src: ApiSources, alert: string, labels: Readonly<Record<string, string>>) {
  const { rule, series } = findSeries(src, alert, labels);
  return { ...seriesJson(series, rule, src.now(), src.activity), rule: ruleFacts(rule), explanation_url: seriesPath('/api/v1/explanations', alert, series.labels) };
}

function ruleFacts(rule: Rule) {
  return {
    name: rule.alert,
    signal: rule.signal,
    group_by: rule.groupBy,
    where: rule.where,
    window: rule.windowMs / 1000,
    threshold: rule.threshold,
    direction: rule.direction,
    min_runs: rule.minRuns,
    for: rule.forMs / 1000,
    labels: rule.labels,
    file: rule.pos.file,
    line: rule.pos.line,
  };
}

/** GET /api/v1/explanations/<name>?labels: the full explanation of a series now, with its hourly values. */
export async function explanationOf(src: ApiSources, alert: string, labels: Readonly<Record<string, string>>) {
  const { rule, series } = findSeries(src, alert, labels);
  const at = src.now();
  const e = await src.explain(rule, series.labels, series.key, at);
  return explanationJson(e, series);
}

export function explanationJson(e: Explanation, series: AlertSeries) {
  const iso = (t: number) => new Date(t).toISOString();
  return {
    alertname: e.rule,
    signal: e.signal,
    labels: e.labels,
    key: e.key,
    state: series.record.state,
    at: iso(e.at),
    window_start: iso(e.windowStart),
    quantity: e.quantity,
    onset:
      e.onset === null
        ? null
        : { at: iso(e.onset.at), uncertainty_seconds: e.onset.uncertaintyMs / 1000, low: iso(e.onset.low), high: iso(e.onset.high), before: e.onset.before, after: e.onset.after, hours: e.onset.hours },
    moved: e.moved,
    causes: e.attribution.causes.map((c) => ({
      dimension: c.dimension,
      value: c.value,
      explained: c.explained,
      current_share: c.currentShare,
      baseline_share: c.baselineShare,
      first_seen: isoOrNull(c.firstSeen),
      lead_seconds: c.leadMs === null ? null : c.leadMs / 1000,
    })),
    dimensions: e.attribution.dimensions.map((d) => ({
      dimension: d.dimension,
      spread: d.spread,
      values: d.values.map((v) => ({ value: v.value, explained: v.explained, current_share: v.currentShare, baseline_share: v.baselineShare, first_seen: isoOrNull(v.firstSeen) })),
    })),
    examples: e.examples.map((x) => ({ run_id: x.runId, trace_id: x.traceId, at: iso(x.timestamp), value: x.value, url: x.url ?? null })),
    hourly: (e.hourly ?? []).map((h) => ({ at: iso(h.t), value: h.value, runs: h.n })),
  };
}

export type ExplanationJson = ReturnType<typeof explanationJson>;

const WORST: readonly AlertState[] = ['firing', 'pending', 'error', 'nodata', 'resolved', 'inactive'];

function ruleJson(src: ApiSources, rule: Rule, group: RuleSet['groups'][number], series: Readonly<Record<AlertState, number>>) {
  const a = src.activity.rule(rule.alert);
  const worst = WORST.find((s) => series[s] > 0) ?? 'inactive';
  return {
    name: rule.alert,
    group: group.name,
    file: group.file,
    signal: rule.signal,
    severity: rule.labels.severity ?? null,
    schedule: group.schedule.kind === 'interval' ? { every_seconds: group.schedule.everyMs / 1000 } : { cron: group.schedule.expression },
    state: a.evaluations === 0 && worst === 'inactive' ? 'unevaluated' : worst,
    series,
    last_evaluation: isoOrNull(a.lastEvaluationAt),
    last_duration_seconds: a.lastDurationMs === null ? null : a.lastDurationMs / 1000,
    last_error: a.lastError,
    last_error_at: isoOrNull(a.lastErrorAt),
    series_measured: a.seriesMeasured,
    evaluations: a.evaluations,
    errors: a.errors,
    skips: a.skips,
    last_skip: a.lastSkip === null ? null : { at: isoOrNull(a.lastSkip.at), reason: a.lastSkip.reason },
    url: `/rules#${encodeURIComponent(rule.alert)}`,
    alerts_url: `/api/v1/alerts?alertname=${encodeURIComponent(rule.alert)}&state=${STATES.join(',')}`,
  };
}

function seriesCounts(src: ApiSources): Map<string, Record<AlertState, number>> {
  const now = src.now();
  const out = new Map<string, Record<AlertState, number>>();
  for (const s of src.alertStates().values()) {
    let c = out.get(s.alert);
    if (c === undefined) out.set(s.alert, (c = { firing: 0, pending: 0, resolved: 0, inactive: 0, nodata: 0, error: 0 }));
    c[shownState(s, now)]++;
  }
  return out;
}

const NONE: Record<AlertState, number> = { firing: 0, pending: 0, resolved: 0, inactive: 0, nodata: 0, error: 0 };

/** GET /api/v1/rules: every loaded rule, in file order, with its state and its evaluations. */
export function listRules(src: ApiSources) {
  const counts = seriesCounts(src);
  const set = src.ruleSet();
  const rules = (set?.groups ?? []).flatMap((g) => g.rules.map((r) => ruleJson(src, r, g, counts.get(r.alert) ?? NONE)));
  return { since: new Date(src.activity.since).toISOString(), rules };
}

/** GET /api/v1/rules/<name>. */
export function ruleDetail(src: ApiSources, alert: string) {
  ruleNamed(src, alert);
  const group = src.ruleSet()?.groups.find((g) => g.rules.some((r) => r.alert === alert));
  const rule = group?.rules.find((r) => r.alert === alert);
  if (group === undefined || rule === undefined) throw unknownRule(alert);
  return { ...ruleJson(src, rule, group, seriesCounts(src).get(alert) ?? NONE), rule: ruleFacts(rule) };
}

/** GET /api/v1/history: the latest transitions, newest first (since the daemon started). */
export function history(src: ApiSources, q: URLSearchParams) {
  const limit = intParam(q, 'limit', 200, 1, MAX_LIMIT);
  const after = intParam(q, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
  const alertname = q.get('alertname') || null;
  const entries = src.activity
    .recent()
    .filter((h) => h.seq > after && (alertname === null || h.alert === alertname))
    .slice(0, limit)
    .map((h) => ({
      seq: h.seq,
      at: new Date(h.at).toISOString(),
      alertname: h.alert,
      labels: h.labels,
      from: h.from,
      to: h.to,
      reason: h.reason,
      value: h.value,
      baseline: h.baseline,
      url: seriesPath('/alerts', h.alert, h.labels),
    }));
  return { since: new Date(src.activity.since).toISOString(), entries };
}

/** GET /api/v1/evaluations: the latest group evaluations, newest first. */
export function evaluations(src: ApiSources, q: URLSearchParams) {
  const limit = intParam(q, 'limit', 100, 1, MAX_LIMIT);
  const group = q.get('group') || null;
  const rows = src.activity
    .groups()
    .filter((g) => group === null || g.group === group)
    .slice(0, limit)
    .map((g) => ({ group: g.group, at: new Date(g.at).toISOString(), ok: g.ok, duration_seconds: g.durationMs / 1000, rules_evaluated: g.evaluated, rules_skipped: g.skipped, transitions: g.transitions }));
  return { since: new Date(src.activity.since).toISOString(), evaluations: rows };
}
