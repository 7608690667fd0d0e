/**
 * The retry stage's arithmetic, as Alertmanager's: after a recoverable failure, how long to wait
 * before the next attempt (exponential, capped, jittered, never sooner than the receiver's
 * Retry-After), and when to stop trying (the retry budget since the first attempt is spent).
 *
 * Pure: the attempt count, the times and the random sample come in as arguments, so the Dispatcher
 * keeps the clock and the random source, and the policy can be tested as a table.
 */

export interface RetryPolicy {
  /** First retry after this long; doubled per attempt. */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Give up on a delivery once retrying it would take longer than this since its first attempt. */
  readonly giveUpAfterMs: number;
  /** Spread of the random factor around each delay: 0.2 means ×[0.9, 1.1]. */
  readonly jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialBackoffMs: 1000, maxBackoffMs: 60_000, giveUpAfterMs: 3600_000, jitter: 0.2 };

/** Where a delivery stands after a recoverable failure. */
export interface FailedAttempt {
  /** Attempts made so far, the failed one included (1 after the first failure). */
  readonly attempts: number;
  /** When the first attempt was made; null counts as now. */
  readonly firstAttemptAt: number | null;
  readonly now: number;
  /** From the receiver's Retry-After (429, 503), when it sent one. */
  readonly retryAfterMs?: number | undefined;
}

export type RetryDecision = { readonly kind: 'retry'; readonly delayMs: number } | { readonly kind: 'give-up' };

/**
 * Exponential with jitter, capped; never sooner than the receiver's Retry-After. `random` is one
 * sample from [0, 1): 0.5 puts the jitter factor at exactly 1.
 */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined, random: number): number {
  const { initialBackoffMs, maxBackoffMs, jitter } = policy;
  // The exponent is capped so 2 ** n stays finite for any attempt count.
  const base = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  const jittered = Math.round(base * (1 - jitter / 2 + random * jitter));
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * Retry after the backoff, or give up when the next attempt would land past the budget: a receiver
 * that is down for longer than giveUpAfterMs costs one failed delivery, not an endless queue.
 */
export function nextRetry(policy: RetryPolicy, failed: FailedAttempt, random: number): RetryDecision {
  const delayMs = backoffMs(policy, failed.attempts, failed.retryAfterMs, random);
  const elapsed = failed.now - (failed.firstAttemptAt ?? failed.now);
  return elapsed + delayMs > policy.giveUpAfterMs ? { kind: 'give-up' } : { kind: 'retry', delayMs };
}
