/** The four signals behind one interface: queries to run (pure), and how to read their rows (pure). */
import type { Rule, SignalName } from '../rules/types.js';
import type { AggregateSource } from './aggregateQuery.js';
import { MIX_KEY } from '../store/contract.js';
import { costMeasure, costQueries } from './cost.js';
import { policyMeasure, policyQueries } from './policy.js';
import type { Measurement } from './result.js';
import { schemaMeasure, schemaQueries } from './schema.js';
import type { BuiltQuery } from './sql.js';
import { toolCallsMeasure, toolCallsQueries } from './toolCalls.js';
import type { WindowBounds } from './types.js';

export interface Signal {
  /** Whether the value is an effect size (>= 0, no direction) rather than a relative change. */
  readonly effectSize: (key: string) => boolean;
  /** `source`: the aggregate tables, if the store has them ready; the signal reads agent_runs where they cannot answer. */
  queries(rule: Rule, table: string, windows: readonly WindowBounds[], source?: AggregateSource | null): BuiltQuery[];
  measure(rule: Rule, windows: readonly WindowBounds[], rows: readonly (readonly Record<string, unknown>[])[]): Measurement[];
}

export const SIGNAL_IMPLS: Readonly<Record<SignalName, Signal>> = {
  tool_calls_per_run: { effectSize: (key) => key === MIX_KEY, queries: toolCallsQueries, measure: toolCallsMeasure },
  policy_activation_rate: { effectSize: () => false, queries: policyQueries, measure: policyMeasure },
  cost_per_success: { effectSize: () => false, queries: costQueries, measure: costMeasure },
  output_schema_shift: { effectSize: () => true, queries: schemaQueries, measure: schemaMeasure },
};

export type { Measurement, Contributor } from './result.js';
export { windowsFor } from './windows.js';
export { aggregatesCover, type AggregateSource } from './aggregateQuery.js';
