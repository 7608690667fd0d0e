/**
 * Which aggregate tables the daemon reads: found at start (after migrate) and looked up again in the
 * background every few minutes, so tables a later `agentdrift migrate` builds are picked up without a
 * restart, and a set that was dropped or is being rebuilt stops being read (rules fall back to
 * agent_runs). Evaluations ask synchronously for what was found last.
 */
import type { ClickHouse } from '../clickhouse/client.js';
import type { Logger } from '../log.js';
import type { AggregateSource } from '../signals/index.js';
import type { AggregateSettings } from '../store/aggregates.js';
import { findAggregates } from '../store/aggregatesMigrate.js';
import type { StoreNames } from '../store/schema.js';
import type { Clock } from '../util/clock.js';

export const AGGREGATES_RECHECK_MS = 5 * 60_000;

export class AggregatesLookup {
  private found: AggregateSource | null = null;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly ch: ClickHouse,
    private readonly names: StoreNames,
    private readonly settings: AggregateSettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** What the last lookup found; starts a new lookup in the background when that one is old. */
  current(): AggregateSource | null {
    if (this.clock.now() - this.checkedAt >= AGGREGATES_RECHECK_MS) void this.refresh();
    return this.found;
  }

  /** Looks the tables up now. A failed lookup (ClickHouse down) keeps what was found before. */
  refresh(): Promise<void> {
    this.inFlight ??= (async () => {
      this.checkedAt = this.clock.now();
      try {
        const next = await findAggregates(this.ch, this.names, this.settings);
        if ((next === null) !== (this.found === null)) {
          if (next) this.logger.info({ dimensions: next.dimensions }, 'reading the aggregate tables where rules allow');
          else if (this.settings.enabled) this.logger.warn('aggregate tables missing or not backfilled: every rule reads agent_runs (run `agentdrift migrate`)');
        }
        this.found = next;
      } catch (err) {
        this.logger.debug({ err }, 'aggregate tables lookup failed; keeping the previous answer');
      } finally {
        this.inFlight = null;
      }
    })();
    return this.inFlight;
  }
}
