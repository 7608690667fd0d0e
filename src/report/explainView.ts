/**
 * What `agentdrift explain` says before an explanation (whether the series fires, and if not why not)
 * and its JSON form (ISO times, no epoch milliseconds). Pure.
 */
import { shownShare } from '../explain/format.js';
import type { Explanation } from '../explain/types.js';
import type { Direction } from '../rules/types.js';
import { isoOrNull, formatP } from '../util/format.js';
import { formatDuration } from '../yaml/duration.js';
import { formatPercent } from '../yaml/percent.js';
import { formatDeviation, type DeviationKind } from './evalView.js';

/** A series' state as of the explained time, as `eval` finds it (a daemon started then). */
export interface SeriesStatus {
  readonly state: string;
  readonly deviation: number | null;
  readonly deviationKind: DeviationKind;
  readonly isNew: boolean;
  readonly pValue: number | null;
  /** Why there is no data or the evaluation failed, when it did. */
  readonly reason: string | null;
}

export interface RuleTerms {
  readonly threshold: number;
  readonly direction: Direction;
  readonly significance: number | null;
  readonly forMs: number;
}

function thresholdText(rule: RuleTerms, kind: DeviationKind): string {
  if (kind === 'js_distance') return `JSD ${rule.threshold}`;
  if (kind === 'unseen_share') return formatPercent(rule.threshold);
  const t = formatPercent(rule.threshold);
  return rule.direction === 'up' ? `+${t}` : rule.direction === 'down' ? `-${t}` : `±${t}`;
}

/** Whether the deviation alone passes the threshold, in the rule's direction. */
function passes(rule: RuleTerms, kind: DeviationKind, d: number): boolean {
  if (kind !== 'relative') return d >= rule.threshold;
  if (rule.direction === 'up') return d >= rule.threshold;
  if (rule.direction === 'down') return d <= -rule.threshold;
  return Math.abs(d) >= rule.threshold;
}

/** Why the condition does not hold: "deviation -0.3% is under the threshold +20%". */
function whyNot(rule: RuleTerms, s: SeriesStatus): string {
  const dev = formatDeviation(s.deviationKind, s.deviation, s.isNew);
  const what = s.deviationKind === 'relative' ? 'deviation' : 'distance';
  const threshold = thresholdText(rule, s.deviationKind);
  if (s.deviation === null) return `no ${what} to compare with the threshold ${threshold}`;
  if (!passes(rule, s.deviationKind, s.deviation)) {
    const side = s.deviationKind !== 'relative' || rule.direction === 'up' ? 'under' : rule.direction === 'down' ? 'above' : 'within';
    return `${what} ${dev} is ${side} the threshold ${threshold}`;
  }
  if (rule.significance !== null && s.pValue !== null && s.pValue >= rule.significance) {
    return `${what} ${dev} passes the threshold ${threshold}, but p = ${formatP(s.pValue)} is not under the significance ${rule.significance}`;
  }
  return `${what} ${dev} passes the threshold ${threshold}`;
}

/**
 * The line an explanation of a series that is not firing starts with, or null for a firing one:
 * "not firing: inactive, deviation -0.3% is under the threshold +20%".
 */
export function notFiringLine(rule: RuleTerms, s: SeriesStatus): string | null {
  switch (s.state) {
    case 'firing':
      return null;
    case 'pending':
      return `not firing yet: pending, ${whyNot(rule, s)}; it fires once that has held for ${formatDuration(rule.forMs)}`;
    case 'nodata':
    case 'error':
      return `not firing: ${s.state}${s.reason ? `, ${s.reason}` : ''}`;
    default:
      return `not firing: ${s.state}, ${whyNot(rule, s)}`;
  }
}

/**
 * An explanation as JSON: every time an ISO-8601 string (durations stay milliseconds, named *Ms), the
 * series' alert state, and each part's share as the text prints it (|contribution| / Σ|contribution|).
 */
export function explanationJson(e: Explanation, status: SeriesStatus | null): Record<string, unknown> {
  const { rule, ...rest } = e;
  return {
    rule,
    state: status?.state ?? null,
    ...rest,
    at: isoOrNull(e.at),
    windowStart: isoOrNull(e.windowStart),
    moved: { ...e.moved, parts: e.moved.parts.map((p) => ({ ...p, share: shownShare(p, e.moved.parts) })) },
    onset: e.onset === null ? null : { ...e.onset, at: isoOrNull(e.onset.at), low: isoOrNull(e.onset.low), high: isoOrNull(e.onset.high) },
    attribution: {
      causes: e.attribution.causes.map((c) => ({ ...c, firstSeen: isoOrNull(c.firstSeen) })),
      dimensions: e.attribution.dimensions.map((d) => ({ ...d, values: d.values.map((v) => ({ ...v, firstSeen: isoOrNull(v.firstSeen) })) })),
    },
    examples: e.examples.map((x) => ({ ...x, timestamp: isoOrNull(x.timestamp) })),
  };
}

const ms = (t: unknown): number => Date.parse(String(t));
const msOrNull = (t: unknown): number | null => (t === null || t === undefined ? null : Date.parse(String(t)));

/**
 * The explanation an explanationJson view was made from, as far as the text shows it: the times back
 * to milliseconds. A part's `share` stays the shown one (the text computes it from the contributions).
 * The command prints the text from the view, the same whether it made the view or the daemon did.
 */
export function explanationFromJson(v: Record<string, unknown>): Explanation {
  const { state: _state, ...e } = v as unknown as Explanation & { state: unknown; [k: string]: unknown };
  return {
    ...e,
    at: ms(e.at),
    windowStart: ms(e.windowStart),
    onset: e.onset === null ? null : { ...e.onset, at: ms(e.onset.at), low: ms(e.onset.low), high: ms(e.onset.high) },
    attribution: {
      causes: e.attribution.causes.map((c) => ({ ...c, firstSeen: msOrNull(c.firstSeen) })),
      dimensions: e.attribution.dimensions.map((d) => ({ ...d, values: d.values.map((x) => ({ ...x, firstSeen: msOrNull(x.firstSeen) })) })),
    },
    examples: e.examples.map((x) => ({ ...x, timestamp: ms(x.timestamp) })),
  };
}
