/**
 * Rules a group evaluation did not get to, and why. A group whose rules cannot all be evaluated
 * within its timeout must not starve the same tail of rules every interval (before this, rules after
 * about the 80th of a large group were never evaluated): each rule is either evaluated or counted as
 * skipped, per rule, and the next evaluation starts with the first rule the last one did not reach.
 */
import { ERR } from '../util/errors.js';
import type { Rule } from '../rules/types.js';

/**
 * Why a rule was not evaluated at a tick:
 * - `timeout`: the group's evaluation hit its timeout before (or while) evaluating it;
 * - `overlap`: the whole tick was skipped because the group's previous evaluation was still running;
 * - `shutdown`: the daemon stopped during the evaluation.
 */
export type SkipReason = 'timeout' | 'overlap' | 'shutdown';
export const SKIP_REASONS: readonly SkipReason[] = ['timeout', 'overlap', 'shutdown'];

export interface SkippedRule {
  readonly rule: string;
  readonly reason: SkipReason;
}

/** The abort reason of a group evaluation that ran out of time: tells a timeout from ClickHouse failing. */
export class EvaluationTimeoutError extends Error {
  override readonly name = 'EvaluationTimeoutError';
  readonly errorCode = ERR.TIMEOUT;
  constructor(readonly timeoutMs: number) {
    super(`evaluation timed out after ${timeoutMs} ms`);
  }
}

/** Why an aborted evaluation stopped: its timeout, or anything else (a shutdown). */
export function abortReason(signal: AbortSignal): SkipReason {
  return signal.reason instanceof EvaluationTimeoutError ? 'timeout' : 'shutdown';
}

/** `rules` starting at index `start` (modulo their number), wrapping around. */
export function rotated<T>(rules: readonly T[], start: number): T[] {
  const n = rules.length;
  if (n === 0) return [];
  const s = ((start % n) + n) % n;
  return [...rules.slice(s), ...rules.slice(0, s)];
}

/**
 * Where the next evaluation of a group starts: at the first rule this one did not reach when it
 * stopped early, else where this one started (a group that completes keeps its order).
 */
export function nextStart(rules: readonly Pick<Rule, 'alert'>[], start: number, evaluated: number): number {
  const n = rules.length;
  if (n === 0 || evaluated >= n) return n === 0 ? 0 : ((start % n) + n) % n;
  return (start + evaluated) % n;
}
