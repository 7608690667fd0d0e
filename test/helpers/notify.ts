/** Test doubles and small helpers for the notification tests. */
import type { FailureReason, Integration, NotifyRecorder, NotifyResult } from '../../src/notify/types.js';

/** An abort signal that never fires. */
export const never: AbortSignal = new AbortController().signal;

/** The failed result, so a test can look at its reason and error; throws if `r` is a success. */
export function failure(r: NotifyResult): Extract<NotifyResult, { ok: false }> {
  if (r.ok) throw new Error('expected a failure');
  return r;
}

/** Writes down what the dispatcher reports: outcomes as "sent slack/slack", "failed r/i reason", "retry r/i". */
export class RecordingRecorder implements NotifyRecorder {
  readonly events: string[] = [];
  readonly inits: string[] = [];
  /** Failed attempts (retried or not), apart from `events` so that those read as deliveries. */
  readonly attemptFailures: string[] = [];
  lastPending = -1;
  init(r: string, i: Integration): void {
    this.inits.push(`${r}/${i}`);
  }
  sent(r: string, i: Integration): void {
    this.events.push(`sent ${r}/${i}`);
  }
  failed(r: string, i: Integration, reason: FailureReason): void {
    this.events.push(`failed ${r}/${i} ${reason}`);
  }
  attemptFailed(r: string, i: Integration, reason: FailureReason): void {
    this.attemptFailures.push(`${r}/${i} ${reason}`);
  }
  retry(r: string, i: Integration): void {
    this.events.push(`retry ${r}/${i}`);
  }
  pending(n: number): void {
    this.lastPending = n;
  }
}
