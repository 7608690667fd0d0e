/**
 * The signals behind one interface. A signal is measure-only (pure): it reads the named sums of
 * its rule's windows (sums.ts: `totals` and `keyed`, which the storage port fetches) and returns one
 * measurement per group and key.
 */
import type { Rule, SignalName } from '../rules/types.js';
import { MIX_KEY } from '../store/contract.js';
import { costMeasure } from './cost.js';
import { policyMeasure } from './policy.js';
import type { Measurement } from './result.js';
import { schemaMeasure } from './schema.js';
import type { SignalSums } from './sums.js';
import { toolCallsMeasure } from './toolCalls.js';
import { durationMeasure } from './duration.js';
import { errorRateMeasure, toolErrorRateMeasure } from './errors.js';
import { tokensMeasure } from './tokens.js';
import { valuedMeasure } from './valued.js';
import { volumeMeasure } from './volume.js';
import type { WindowBounds } from './types.js';

export interface Signal {
  /** Whether the rule's value for a key is an effect size (>= 0, no direction) rather than a relative change. */
  readonly effectSize: (key: string, rule: Pick<Rule, 'options'>) => boolean;
  measure(rule: Rule, windows: readonly WindowBounds[], sums: SignalSums): Measurement[];
}

export const SIGNAL_IMPLS: Readonly<Record<SignalName, Signal>> = {
  tool_calls_per_run: { effectSize: (key) => key === MIX_KEY, measure: toolCallsMeasure },
  policy_activation_rate: { effectSize: () => false, measure: policyMeasure },
  cost_per_success: { effectSize: () => false, measure: costMeasure },
  // A distribution's distance is an effect size; a fingerprint's share (`measure: share`) is a scalar.
  output_schema_shift: { effectSize: (_key, rule) => rule.options.measure !== 'share', measure: schemaMeasure },
  duration: { effectSize: () => false, measure: durationMeasure },
  error_rate: { effectSize: () => false, measure: errorRateMeasure },
  tool_error_rate: { effectSize: () => false, measure: toolErrorRateMeasure },
  tokens_per_run: { effectSize: () => false, measure: tokensMeasure },
  score: { effectSize: () => false, measure: valuedMeasure('score') },
  runs: { effectSize: () => false, measure: volumeMeasure('runs') },
  cost: { effectSize: () => false, measure: volumeMeasure('cost') },
  metric: { effectSize: () => false, measure: valuedMeasure('metric') },
};

export type { Measurement, Contributor } from './result.js';
export { windowsFor } from './windows.js';
export { aggregatesCover, type AggregateSource } from './aggregateQuery.js';
export { StoreSums, type PlannedRead, type QueryFn, type SignalSums, type SumsPort, type SumsReader } from './sums.js';
