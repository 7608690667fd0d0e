/**
 * The facts every message states, whatever the medium: what moved, by how much, against which
 * baseline, on how many runs, with what significance, and what drove it. Slack, email and the
 * webhook/Alertmanager annotations all render these same strings, so a reader sees the same numbers
 * everywhere. Escaping is the renderer's job (escapeSlack, escapeHtml): facts are plain text.
 */
import { MIX_KEY } from '../store/contract.js';
import { formatP, formatPercentChange, humanize, usd } from '../util/format.js';
import type { AlertNotification, DriftEvidence } from './types.js';

export interface AlertFacts {
  readonly alertname: string;
  readonly status: 'firing' | 'resolved';
  readonly severity: string | null;
  readonly summary: string | null;
  readonly description: string | null;
  /** "enrich_company calls per run 1.09 → 1.74 (+59.8%) over last 7d vs previous 7d, 8355 vs 8314 runs, p=1e-12" */
  readonly moved: string;
  /** Every label but alertname, in the alert's order: the group (workflow_id...), tool, severity... */
  readonly labels: readonly (readonly [string, string])[];
  /** "search_web: 0.5 → 1.2" */
  readonly contributors: readonly string[];
  readonly exampleRunIds: readonly string[];
  /** "started 2026-11-17 09:00 UTC ± 1 h (Tuesday)", from the explanation (null without one). */
  readonly onset: string | null;
  /** The parts of the signal that moved: "enrich_company 1.1 → 1.74 (+0.64, 100% of the change)". */
  readonly whatMoved: string | null;
  /** Which change caused it: "prompt_version enrich-v13 explains 100% of the change (...)". */
  readonly cause: string | null;
  /** Example runs with their trace ids and, when trace_url is set, http(s) links. */
  readonly examples: readonly { readonly runId: string; readonly traceId: string; readonly url: string | null }[];
  /** Only http(s) URLs survive: a `javascript:` runbook must not become a link. */
  readonly runbookUrl: string | null;
  readonly generatorURL: string | null;
  readonly fingerprint: string;
  readonly startsAt: string;
  readonly endsAt: string | null;
}

const MAX_CONTRIBUTORS = 5;
const MAX_EXAMPLES = 5;

export function alertFacts(n: AlertNotification): AlertFacts {
  const ev = n.evidence;
  const fmtC = contributorFormat(ev);
  return {
    alertname: n.labels.alertname ?? 'agentdrift alert',
    status: n.status,
    severity: n.labels.severity ?? null,
    summary: nonEmpty(n.annotations.summary),
    description: nonEmpty(n.annotations.description),
    moved: movedLine(ev),
    labels: Object.entries(n.labels).filter(([k]) => k !== 'alertname'),
    contributors: (ev.contributors ?? []).slice(0, MAX_CONTRIBUTORS).map((c) => `${c.name}: ${fmtC(c.baseline)} → ${fmtC(c.current)}`),
    exampleRunIds: (ev.exampleRunIds ?? []).slice(0, MAX_EXAMPLES),
    onset: explanationLine(ev.explanation?.onset),
    whatMoved: explanationLine(ev.explanation?.moved),
    cause: explanationLine(ev.explanation?.cause),
    examples: (ev.explanation?.examples ?? []).slice(0, MAX_EXAMPLES).map((x) => ({ runId: truncate(x.runId, 200), traceId: truncate(x.traceId, 200), url: httpUrl(x.url) })),
    runbookUrl: httpUrl(n.annotations.runbook_url ?? n.annotations.runbook),
    generatorURL: httpUrl(n.generatorURL),
    fingerprint: n.fingerprint,
    startsAt: n.startsAt,
    endsAt: n.endsAt,
  };
}

/** Explanation lines are one line each and bounded, whatever the data held (each medium bounds them again). */
const EXPLANATION_LINE_MAX = 600;
function explanationLine(s: string | null | undefined): string | null {
  return s === undefined || s === null || s.trim() === '' ? null : truncate(oneLine(s), EXPLANATION_LINE_MAX);
}

function nonEmpty(s: string | undefined): string | null {
  return s !== undefined && s.trim() !== '' ? s : null;
}

export function httpUrl(s: string | undefined | null): string | null {
  if (s === undefined || s === null || s === '') return null;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

function isEffectSize(ev: DriftEvidence): boolean {
  return ev.key === MIX_KEY || ev.signal === 'output_schema_shift';
}

function subjectOf(ev: DriftEvidence): string {
  switch (ev.signal) {
    case 'tool_calls_per_run':
      return ev.key === MIX_KEY ? 'tool mix distance' : `${ev.key} calls per run`;
    case 'policy_activation_rate':
      return 'policy activation rate';
    case 'cost_per_success':
      return 'cost per success';
    case 'output_schema_shift':
      return 'output schema distance';
    default:
      return `${ev.key && ev.key !== MIX_KEY ? `${ev.key} ` : ''}${ev.signal.replace(/_/g, ' ')}`;
  }
}

/** A share as a percentage with three significant digits, so close rates still differ: "1.65%", "2.29%". */
function pct(x: number | null): string {
  return x === null ? 'n/a' : `${Number((x * 100).toPrecision(3))}%`;
}

function fixed3(x: number | null): string {
  return x === null ? 'n/a' : x.toFixed(3);
}

/** Whether the alert's threshold is absolute (a limit in the signal's unit), not a change against a baseline. */
export function isAbsolute(ev: Pick<DriftEvidence, 'direction'>): boolean {
  return ev.direction === 'above' || ev.direction === 'below';
}

function valueFormat(ev: DriftEvidence): (x: number | null) => string {
  if (ev.signal === 'cost_per_success' || ev.signal === 'cost') return usd;
  if (ev.signal === 'policy_activation_rate' || ev.signal === 'error_rate' || ev.signal === 'tool_error_rate') return pct;
  if (ev.signal === 'duration') return (x) => (x === null ? 'n/a' : `${humanize(x)} ms`);
  if (isEffectSize(ev)) return fixed3;
  return humanize;
}

function contributorFormat(ev: DriftEvidence): (x: number | null) => string {
  if (ev.signal === 'cost_per_success') return usd;
  // Policy rules' and schema fingerprints' contributors are shares of runs.
  if (ev.signal === 'policy_activation_rate' || ev.signal === 'output_schema_shift') return pct;
  return humanize;
}

export function movedLine(ev: DriftEvidence): string {
  const fmt = valueFormat(ev);
  let head: string;
  if (isAbsolute(ev)) {
    head = `${subjectOf(ev)} ${fmt(ev.current)} (limit: ${ev.direction} ${fmt(ev.threshold)})`;
    const parts = [`${head} over ${ev.window}`, `${ev.currentRuns} runs`];
    return parts.join(', ');
  } else if (isEffectSize(ev)) {
    head = `${subjectOf(ev)} ${fmt(ev.current)} (threshold ${fmt(ev.threshold)})`;
  } else {
    const change = ev.isNew ? 'new' : formatPercentChange(ev.deviation);
    head = `${subjectOf(ev)} ${fmt(ev.baseline)} → ${fmt(ev.current)} (${change})`;
  }
  const parts = [`${head} over ${ev.window} vs ${ev.baselineWindow}`, `${ev.currentRuns} vs ${ev.baselineRuns} runs`];
  if (ev.pValue !== null && ev.pValue !== undefined) parts.push(`p=${formatP(ev.pValue)}`);
  return parts.join(', ');
}

/** Labels that say which series this is; severity and alertname are shown elsewhere. */
export function identityLabels(labels: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(labels).filter(([k]) => k !== 'alertname' && k !== 'severity');
}

/**
 * Alertmanager's title: "[FIRING:1] ToolCallsPerRunUp workflow_id=invoice_enrichment tool=enrich_company",
 * with the alert name (or "N alerts") and the identity labels the batch's alerts share.
 */
export function batchTitle(alerts: readonly AlertNotification[]): string {
  const firing = alerts.filter((a) => a.status === 'firing').length;
  const status = firing > 0 ? `[FIRING:${firing}]` : '[RESOLVED]';
  const names = [...new Set(alerts.map((a) => a.labels.alertname ?? 'agentdrift alert'))];
  const name = names.length === 1 ? names[0]! : `${names.length} alerts`;
  const common = commonLabels(alerts);
  const first = alerts[0];
  const shared = first === undefined ? [] : identityLabels(first.labels).filter(([k, v]) => common[k] === v);
  return oneLine([status, name, ...shared.map(([k, v]) => `${k}=${v}`)].join(' '));
}

export function commonLabels(alerts: readonly { readonly labels: Readonly<Record<string, string>> }[]): Record<string, string> {
  return commonOf(alerts.map((a) => a.labels));
}

export function commonAnnotations(alerts: readonly AlertNotification[]): Record<string, string> {
  return commonOf(alerts.map((a) => a.annotations));
}

function commonOf(maps: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  const [first, ...rest] = maps;
  if (first === undefined) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) if (rest.every((m) => Object.hasOwn(m, k) && m[k] === v)) out[k] = v;
  return out;
}

/** Titles and subjects are one line: a newline in a label must not start a new header or paragraph. */
export function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ');
}

// ---- escaping ----------------------------------------------------------------------------------------

/**
 * Slack mrkdwn control characters are &, < and > only (`<!channel>`, `<@U123>`, `<http://x|y>`); with
 * those escaped no link or mention can be built from data. A bare @channel/@here/@everyone is not a
 * mention in webhook text, but some clients still highlight it: a zero-width space defuses it.
 */
export function escapeSlack(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(channel|here|everyone)/gi, '@\u200B$1');
}

/** A URL for Slack's `<url|text>`: `|` and `>` would end the URL early and start attacker text. */
export function slackUrl(url: string): string {
  return url.replace(/&/g, '&amp;').replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E');
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
