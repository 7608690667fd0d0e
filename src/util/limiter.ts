/**
 * At most `max` holders at a time; the others wait in arrival order. The daemon's group evaluations
 * share one (`evaluation.max_concurrent_groups`), like Prometheus' `--rules.max-concurrent-rule-evals`:
 * at a start, every group evaluates at once (with its `for` replays), and in the soak run every group
 * ran out of time together (docs/benchmarks.md, "Soak"); queued, each one runs in full in its turn.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: { readonly grant: () => void }[] = [];

  constructor(readonly max: number) {
    if (!(Number.isInteger(max) && max >= 1)) throw new RangeError(`a limiter needs a positive integer, got ${max}`);
  }

  /** Holders now. */
  get running(): number {
    return this.active;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Resolves with the slot's release (idempotent) once one is free. Rejects with the signal's reason
   * if it aborts first; the place in the queue is then given up.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot passes straight to the next in line, so `active` never dips below a waiting queue.
      const next = this.waiting.shift();
      if (next) next.grant();
      else this.active--;
    };
  }
}
