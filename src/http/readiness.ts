/** What /readyz answers, computed from plain facts so it is testable without a daemon (pure). */

export interface ReadinessCheck {
  readonly ok: boolean;
  readonly detail: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Record<string, ReadinessCheck>;
}

export interface ReadinessInput {
  readonly rulesLoaded: boolean;
  readonly clickhouseOk: boolean;
  readonly clickhouseDetail: string;
  /** When the last evaluation completed (ms since the epoch); null before the first one. */
  readonly lastEvaluationAt: number | null;
  readonly now: number;
  readonly maxStalenessMs: number;
  /**
   * When the daemon started (ms). Without it the daemon is not ready until its first evaluation;
   * with it, it is ready for `maxStalenessMs` after the start while waiting for the first one, so a
   * group whose first tick is offset does not make the daemon look broken.
   */
  readonly startedAt?: number;
  /**
   * Whether the state is being saved: a daemon that cannot save would, after a crash, send every
   * alert again and forget pending resolutions. Absent: not checked.
   */
  readonly persistence?: ReadinessCheck;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

export function readinessFrom(input: ReadinessInput): Readiness {
  const rules: ReadinessCheck = input.rulesLoaded
    ? { ok: true, detail: 'rules loaded' }
    : { ok: false, detail: 'no valid rule set loaded yet' };
  const clickhouse: ReadinessCheck = { ok: input.clickhouseOk, detail: input.clickhouseDetail };

  let evaluation: ReadinessCheck;
  if (input.lastEvaluationAt === null) {
    const since = input.startedAt === undefined ? null : input.now - input.startedAt;
    evaluation =
      since !== null && since <= input.maxStalenessMs
        ? { ok: true, detail: `waiting for the first evaluation (started ${seconds(Math.max(0, since))} ago)` }
        : { ok: false, detail: 'no evaluation has completed yet' };
  } else {
    // A clock that stepped back makes the age negative: that is fresh, not stale.
    const age = Math.max(0, input.now - input.lastEvaluationAt);
    evaluation =
      age <= input.maxStalenessMs
        ? { ok: true, detail: `last evaluation ${seconds(age)} ago` }
        : { ok: false, detail: `last evaluation ${seconds(age)} ago, more than the bound of ${seconds(input.maxStalenessMs)}` };
  }

  const checks: Record<string, ReadinessCheck> = { rules, clickhouse, evaluation };
  if (input.persistence !== undefined) checks.state = input.persistence;
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

/**
 * Whether `ping` answers within `timeoutMs`, and how it failed if not: what /readyz reports about
 * ClickHouse. A ping that hangs is an answer too (not ready), not a /readyz that hangs.
 */
export async function pingWithin(ping: () => Promise<unknown>, timeoutMs: number): Promise<ReadinessCheck> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`ping timed out after ${timeoutMs / 1000}s`)), timeoutMs);
        timer.unref();
      }),
    ]);
    return { ok: true, detail: 'reachable' };
  } catch (err) {
    return { ok: false, detail: String((err as Error)?.message ?? err) };
  } finally {
    clearTimeout(timer);
  }
}

export interface ReadinessSources {
  readonly ping: () => Promise<unknown>;
  /** How long /readyz waits for the ping before it reports ClickHouse down instead of hanging. */
  readonly pingTimeoutMs: number;
  /** Told each ping's answer (the state manager, the one writer of agentdrift_clickhouse_up). */
  readonly onPing: (ok: boolean) => void;
  readonly rulesLoaded: () => boolean;
  readonly lastEvaluationAt: () => number | null;
  readonly maxStalenessMs: () => number;
  readonly now: () => number;
  readonly startedAt: number;
  readonly persistence: () => ReadinessCheck;
}

/** /readyz over the daemon's parts: a ping within its timeout, then readinessFrom. */
export function readinessOf(s: ReadinessSources): () => Promise<Readiness> {
  return async () => {
    const clickhouse = await pingWithin(s.ping, s.pingTimeoutMs);
    s.onPing(clickhouse.ok);
    return readinessFrom({
      rulesLoaded: s.rulesLoaded(),
      clickhouseOk: clickhouse.ok,
      clickhouseDetail: clickhouse.detail,
      lastEvaluationAt: s.lastEvaluationAt(),
      now: s.now(),
      maxStalenessMs: s.maxStalenessMs(),
      startedAt: s.startedAt,
      persistence: s.persistence(),
    });
  };
}
