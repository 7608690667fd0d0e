/**
 * How a series' deviation reads, for every view of it (eval, backtest, the API, the web UI).
 */
import type { Rule } from '../rules/types.js';
import { formatPercentChange, NA } from '../util/format.js';
import { SIGNAL_IMPLS } from './index.js';

/**
 * What a row's deviation is: a relative change of a scalar (`+41.1%`), a Jensen-Shannon distance between
 * the windows' distributions (the tool mix `__mix__`, output_schema_shift's default; `JSD 0.41`), or the
 * share of current runs on fingerprints the baseline did not have (`measure: unseen_share`; `unseen 12%`).
 * A distance or an unseen share has no baseline of its own: it compares the windows.
 */
export type DeviationKind = 'relative' | 'js_distance' | 'unseen_share';

export function deviationKindOf(rule: Pick<Rule, 'signal' | 'options'>, key: string): DeviationKind {
  if (!SIGNAL_IMPLS[rule.signal].effectSize(key, rule)) return 'relative';
  return rule.signal === 'output_schema_shift' && rule.options.measure === 'unseen_share' ? 'unseen_share' : 'js_distance';
}

/** "+41.1%", "JSD 0.41", "unseen 12%", "new" (a key the baseline did not have). */
export function formatDeviation(kind: DeviationKind, deviation: number | null, isNew = false): string {
  if (kind === 'relative') return isNew ? 'new' : formatPercentChange(deviation);
  if (deviation === null || !Number.isFinite(deviation)) return NA;
  return kind === 'js_distance' ? `JSD ${deviation.toFixed(2)}` : `unseen ${Number((deviation * 100).toPrecision(3))}%`;
}

