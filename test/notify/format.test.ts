/** The "what moved" line every receiver shows: each signal in its own unit, as a person reads it. */
import { describe, expect, it } from 'vitest';
import { movedLine } from '../../src/notify/format.js';
import { MIX_KEY } from '../../src/store/contract.js';
import { alert } from '../helpers/alerts.js';

const moved = (evidence: NonNullable<Parameters<typeof alert>[0]>['evidence']) => movedLine(alert({ evidence }).evidence);

describe('movedLine', () => {
  it.each([
    ['a scalar as a relative change, windows as the rule writes them', {}, 'enrich_company calls per run 1.09 → 1.74 (+59.6%) over last 7d vs previous 7d, 8355 vs 8314 runs, p=1e-12'],
    [
      'close policy rates with enough digits to differ',
      { signal: 'policy_activation_rate', key: '', baseline: 0.0165, current: 0.0229, deviation: 0.388, pValue: 0.0004 },
      'policy activation rate 1.65% → 2.29% (+38.8%) over last 7d vs previous 7d, 8355 vs 8314 runs, p=4e-4',
    ],
    [
      'a schema shift as a distance, never as a percent of a zero baseline',
      { signal: 'output_schema_shift', key: '', baseline: 0, current: 0.411, deviation: 0.411 },
      'output schema distance 0.411 (threshold 0.200) over last 7d vs previous 7d, 8355 vs 8314 runs, p=1e-12',
    ],
    [
      'the tool mix as a distance',
      { key: MIX_KEY, baseline: 0, current: 0.12, deviation: 0.12 },
      'tool mix distance 0.120 (threshold 0.200) over last 7d vs previous 7d, 8355 vs 8314 runs, p=1e-12',
    ],
    ['cost in dollars', { signal: 'cost_per_success', key: '', baseline: 0.00412, current: 0.0061, deviation: 0.48 }, 'cost per success $0.00412 → $0.0061 (+48.0%) over last 7d vs previous 7d, 8355 vs 8314 runs, p=1e-12'],
  ])('%s', (_what, evidence, expected) => {
    expect(moved(evidence)).toBe(expected);
  });
});
