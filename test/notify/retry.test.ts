import { describe, expect, it } from 'vitest';
import { backoffMs, DEFAULT_RETRY, nextRetry, type RetryDecision, type RetryPolicy } from '../../src/notify/retry.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;

/** random = 0.5 puts the jitter factor at exactly 1. */
const MID = 0.5;

describe('backoffMs', () => {
  it.each([
    { name: 'first retry: the initial backoff', attempt: 1, random: MID, want: 1 * S },
    { name: 'doubles per attempt', attempt: 2, random: MID, want: 2 * S },
    { name: 'doubles again', attempt: 3, random: MID, want: 4 * S },
    { name: '32s before the cap', attempt: 6, random: MID, want: 32 * S },
    { name: 'capped at maxBackoffMs', attempt: 7, random: MID, want: 60 * S },
    { name: 'capped for a huge attempt count (no Infinity)', attempt: 10_000, random: MID, want: 60 * S },
    { name: 'attempt 0 counts as the first', attempt: 0, random: MID, want: 1 * S },
    { name: 'jitter low end: ×0.9', attempt: 1, random: 0, want: 900 },
    { name: 'jitter high end: ×1.1', attempt: 2, random: 1, want: 2200 },
    { name: 'jitter applies to the capped delay', attempt: 20, random: 0, want: 54 * S },
    { name: 'rounded to whole ms', attempt: 1, random: 0.123, want: 925 },
    { name: 'Retry-After longer than the backoff wins', attempt: 1, random: MID, retryAfterMs: 7 * S, want: 7 * S },
    { name: 'Retry-After shorter than the backoff is ignored', attempt: 5, random: MID, retryAfterMs: 1 * S, want: 16 * S },
    { name: 'Retry-After is not jittered or capped', attempt: 1, random: 0, retryAfterMs: 2 * M, want: 2 * M },
  ])('$name', ({ attempt, random, retryAfterMs, want }) => {
    expect(backoffMs(DEFAULT_RETRY, attempt, retryAfterMs, random)).toBe(want);
  });

  it('follows the policy it is given', () => {
    const policy: RetryPolicy = { initialBackoffMs: 100, maxBackoffMs: 250, giveUpAfterMs: H, jitter: 0 };
    expect([1, 2, 3, 4].map((a) => backoffMs(policy, a, undefined, 0.99))).toEqual([100, 200, 250, 250]);
  });
});

describe('nextRetry: retry after the backoff, or give up once the budget is spent', () => {
  const t0 = 5_000_000;
  it.each<{ name: string; attempts: number; firstAttemptAt: number | null; now: number; retryAfterMs?: number; want: RetryDecision }>([
    { name: 'first failure: retry in 1s', attempts: 1, firstAttemptAt: t0, now: t0, want: { kind: 'retry', delayMs: 1 * S } },
    { name: 'no first attempt recorded counts as now', attempts: 1, firstAttemptAt: null, now: t0, want: { kind: 'retry', delayMs: 1 * S } },
    { name: 'next attempt lands exactly on the budget: retry', attempts: 10, firstAttemptAt: t0, now: t0 + H - M, want: { kind: 'retry', delayMs: M } },
    { name: 'next attempt would land past the budget: give up', attempts: 10, firstAttemptAt: t0, now: t0 + H - M + 1, want: { kind: 'give-up' } },
    { name: 'a Retry-After past the budget: give up', attempts: 1, firstAttemptAt: t0, now: t0, retryAfterMs: H + 1, want: { kind: 'give-up' } },
    { name: 'a Retry-After within the budget: wait for it', attempts: 1, firstAttemptAt: t0, now: t0, retryAfterMs: 10 * M, want: { kind: 'retry', delayMs: 10 * M } },
  ])('$name', ({ attempts, firstAttemptAt, now, retryAfterMs, want }) => {
    expect(nextRetry(DEFAULT_RETRY, { attempts, firstAttemptAt, now, retryAfterMs }, MID)).toEqual(want);
  });

  it('with the default policy, a receiver that stays down is tried for an hour at most', () => {
    let now = 0;
    let attempts = 1;
    const gaps: number[] = [];
    for (;;) {
      const d = nextRetry(DEFAULT_RETRY, { attempts, firstAttemptAt: 0, now }, MID);
      if (d.kind === 'give-up') break;
      gaps.push(d.delayMs / S);
      now += d.delayMs;
      attempts++;
    }
    expect(gaps.slice(0, 8)).toEqual([1, 2, 4, 8, 16, 32, 60, 60]);
    expect(now).toBeLessThanOrEqual(H);
    expect(now).toBeGreaterThan(H - M);
  });
});
