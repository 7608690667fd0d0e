/** The rollup's settings (`rollup:` in agentdrift.yaml), as the config layer validates them. */
import { DEFAULT_SPAN_PREFIXES } from '../store/attributes.js';

/** USD per million tokens for one model; cache reads and writes at the input price unless given. */
export interface ModelPrice {
  readonly model: string;
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
  readonly cacheReadPerMillion: number | null;
  /** Tokens written to a prompt cache (Anthropic charges them above the input price). */
  readonly cacheWritePerMillion?: number | null;
}

/** The agent_runs columns whose source attributes a config may name (`rollup.attributes`). */
export const ATTRIBUTE_OVERRIDE_COLUMNS = ['run_id', 'workflow_id', 'agent_id', 'tenant_id', 'prompt_version', 'policy_version', 'output_schema_fingerprint', 'conversation_id'] as const;
export type AttributeOverrideColumn = (typeof ATTRIBUTE_OVERRIDE_COLUMNS)[number];
/**
 * Span attributes a team's conventions put a column in, read before the built-in ones (in order):
 * `workflow_id: [app.flow]`. Keys are checked like every attribute key agentdrift reads.
 */
export type AttributeOverrides = Readonly<Partial<Record<AttributeOverrideColumn, readonly string[]>>>;

export interface RollupSettings {
  /** Whether the daemon runs the rollup on its schedule. */
  readonly enabled: boolean;
  /** How often the daemon runs a pass. */
  readonly intervalMs: number;
  /** How long after a run's span ended its late spans may still arrive: a run is rolled up only then. */
  readonly latenessMs: number;
  /** The longest run expected: spans are read this far around a pass's interval. */
  readonly maxRunDurationMs: number;
  /** Token prices for model spans that carry no cost attribute. */
  readonly prices: readonly ModelPrice[];
  /** Where a team's conventions put a column (absent: the built-in attributes only). */
  readonly attributes?: AttributeOverrides;
  /** Root-span attributes under this prefix are the run's `attributes` (default `agent.attributes.`). */
  readonly attributePrefix?: string;
  /** Root-span attributes under this prefix are the run's `metrics` (default `agent.metrics.`). */
  readonly metricPrefix?: string;
}

export const ROLLUP_DEFAULTS: Omit<RollupSettings, 'prices'> = {
  enabled: true,
  intervalMs: 60_000,
  latenessMs: 10 * 60_000,
  maxRunDurationMs: 3_600_000,
  attributePrefix: DEFAULT_SPAN_PREFIXES.attributes,
  metricPrefix: DEFAULT_SPAN_PREFIXES.metrics,
};
