/**
 * What a notification says about the rule behind an alert (its name, signal, labels, windows,
 * threshold and direction), apart from the rule itself. The engine stores these facts with each
 * series in the state file, so a series whose rule was removed from the rule files before a restart
 * can still be resolved to its receivers with the labels it fired with (Alertmanager identifies an
 * alert by its labels: a resolution with other labels would resolve nothing).
 */
import { formatDuration } from '../yaml/duration.js';
import type { BaselineSpec, Rule } from './types.js';

/** A rule's baseline in words, as notifications and `eval` print it. */
export function describeBaseline(b: BaselineSpec): string {
  return b.kind === 'previous'
    ? `previous ${formatDuration(b.lengthMs)}${b.offsetMs > 0 ? ` (offset ${formatDuration(b.offsetMs)})` : ''}`
    : `median of the same window ${b.weeks} week${b.weeks > 1 ? 's' : ''} back`;
}

export interface RuleFacts {
  readonly alert: string;
  readonly signal: string;
  /** The rule's own labels (severity, team...). */
  readonly labels: Readonly<Record<string, string>>;
  /** "last 7d" */
  readonly window: string;
  /** "previous 7d", "same 1d of the last 3 weeks (median)" */
  readonly baselineWindow: string;
  readonly threshold: number;
  /** up, down or both; `above` or `below` for an absolute threshold (then `threshold` is its value). */
  readonly direction: string;
}

export function ruleFacts(rule: Rule): RuleFacts {
  return {
    alert: rule.alert,
    signal: rule.signal,
    labels: { ...rule.labels },
    window: `last ${formatDuration(rule.windowMs)}`,
    baselineWindow: describeBaseline(rule.baseline),
    threshold: rule.threshold,
    direction: rule.absolute?.bound ?? rule.direction,
  };
}
