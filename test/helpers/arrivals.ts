/**
 * What a fake receiver (HTTP, SMTP) has received so far, for tests to wait on: items are added as
 * they arrive, and waitFor(n) resolves once there are n of them.
 */
export class Arrivals<T> {
  /** Everything received, in order; the same array for the receiver's lifetime. */
  readonly items: T[] = [];
  private waiters: (() => void)[] = [];

  /** `noun` names the items in the timeout message ("requests", "messages"). */
  constructor(private readonly noun: string) {}

  add(item: T): void {
    this.items.push(item);
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** The first `n` items, once they have arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs: number): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`expected ${n} ${this.noun} within ${timeoutMs}ms, got ${this.items.length}`)), timeoutMs);
      const check = (): void => {
        if (this.items.length >= n) {
          clearTimeout(timer);
          resolve(this.items.slice(0, n));
        } else this.waiters.push(check);
      };
      check();
    });
  }
}
