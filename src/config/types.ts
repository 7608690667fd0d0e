/** The daemon's configuration (agentdrift.yaml) after validation: typed, defaults filled, paths resolved. */
import type { Target } from '../clickhouse/target.js';
import type { RollupSettings } from '../rollup/types.js';
import type { AggregateSettings } from '../store/aggregates.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ClickHouseConfig {
  /** Parsed target; a relative chdb directory is resolved against the config file's directory. */
  readonly target: Target;
  /** The target as a string again (after env substitution and path resolution), safe to log. */
  readonly targetSpec: string;
  readonly user: string | null;
  /** Never log this; problems never contain it. */
  readonly password: string | null;
}

export interface TablesConfig {
  readonly agentRuns: string;
  readonly otelTraces: string;
  /** The materialized view that fills agent_runs from otel_traces. */
  readonly view: string;
  /** Scores that arrive after their run (default run_scores). */
  readonly runScores: string;
}

export interface ListenAddress {
  /** Without brackets for IPv6 (`::1`). */
  readonly host: string;
  readonly port: number;
}

export interface EvaluationConfig {
  /** Upper bound on every group's evaluation timeout; null leaves each group's own (default min(interval, 5m)). */
  readonly timeoutMs: number | null;
  readonly maxSeriesPerRule: number;
  /** Group evaluations that may run at once; the others wait their turn (their timeout starts when they run). */
  readonly maxConcurrentGroups: number;
}

/** The `api` section: who may call the state-changing HTTP endpoints (POST /api/v1/accept). */
export interface ApiConfig {
  /** api.token_file, resolved against the config file's directory. */
  readonly tokenFile: string;
  /** Its content, trimmed: the bearer token. Never log this; problems never contain it. */
  readonly token: string;
}

export interface Config {
  /** The file this came from; null for `defaultConfig()`. */
  readonly file: string | null;
  readonly clickhouse: ClickHouseConfig;
  readonly tables: TablesConfig;
  /** TTL of agent_runs rows in days; null for no TTL. */
  readonly ttlDays: number | null;
  /** Rule files and directories, resolved against the config file's directory. */
  readonly rules: readonly string[];
  readonly stateFile: string;
  readonly listen: ListenAddress;
  /** Base URL of this daemon as users reach it; null: http://<listen>. Used in notification links. */
  readonly externalUrl: string | null;
  /** Link template for trace ids in explanations (`{trace_id}`, `{run_id}`); null: ids without links. */
  readonly traceUrl: string | null;
  readonly logLevel: LogLevel;
  readonly evaluation: EvaluationConfig;
  /** Each a mapping; their schema belongs to the notification layer, which validates them. */
  readonly receivers: readonly Readonly<Record<string, unknown>>[];
  readonly route: Readonly<Record<string, unknown>>;
  readonly demo: { readonly seedIfEmpty: boolean };
  /** The rollup of plain GenAI spans into agent_runs (src/rollup). */
  readonly rollup: RollupSettings;
  /** The pre-aggregated tables the signals read where they can (src/store/aggregates.ts). */
  readonly aggregates: AggregateSettings;
  /**
   * Absent without api.token_file: state-changing requests are answered from loopback only. Present:
   * they need `Authorization: Bearer <token>`, from any address.
   */
  readonly api?: ApiConfig;
}
