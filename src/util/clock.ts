/**
 * Time comes in from outside (the engine, the scheduler and the delivery pipeline): `now()` and one-shot timers. The daemon uses
 * the real ones; tests use ManualClock and move time by hand, so a 4h repeat_interval or a 1h retry
 * budget takes milliseconds to test, and the order of events is deterministic.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Calls `fn` once, `ms` from now. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

/** setTimeout's delay is a signed 32-bit number of ms; longer waits are re-armed in steps. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Wall-clock time and unref'd timers: a pending retry must not keep a process alive that is
 * otherwise done (the daemon's own loop keeps it running; a CLI command should exit).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    let t: NodeJS.Timeout;
    const due = Date.now() + Math.max(0, ms);
    const arm = (): void => {
      t = setTimeout(() => (Date.now() >= due ? fn() : arm()), Math.min(MAX_DELAY, Math.max(0, due - Date.now())));
      t.unref();
    };
    arm();
    return { cancel: () => clearTimeout(t) };
  },
};

/**
 * The system clock moved to start at `startMs` (then advancing in real time), with real timers. For
 * `start --now`: a demo or test replays a pinned period, and every timestamp the daemon writes
 * (evaluation times, alert starts, delivery records) comes from this one clock, so they agree.
 */
export function shiftedClock(startMs: number, realNow: number = Date.now()): Clock {
  const offset = startMs - realNow;
  return { now: () => Date.now() + offset, setTimer: systemClock.setTimer };
}

interface ManualTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when told to. Timers due at the same instant fire in the order they were set. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.t = start;
  }

  now = (): number => this.t;

  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer: ManualTimer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers not yet fired nor cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way at its own instant,
   * and letting the promises it starts settle before going on (work started by a timer, such as a
   * send, completes "instantly" in fake time).
   */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    // Bounded: a timer that re-arms itself at zero delay forever is a bug, not a reason to hang.
    for (let guard = 0; guard < 100_000; guard++) {
      await settle();
      this.timers = this.timers.filter((t) => !t.cancelled);
      const next = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.t = Math.max(this.t, next.at);
      next.cancelled = true;
      next.fn();
    }
    this.t = target;
    await settle();
  }

  /** Lets pending promise callbacks run without moving time. */
  async tick(): Promise<void> {
    await this.advance(0);
  }
}

/** A few macrotask turns: enough for chains of awaits inside fake notifiers and the dispatcher. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
}
