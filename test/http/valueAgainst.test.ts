/** How the UI shows a series' value: a change against the baseline, a limit, or a distance. */
import { describe, expect, it } from 'vitest';
import { valueAgainst } from '../../src/http/ui/html.js';

const base = { value: 1.87, baseline: 1.1, deviation: 0.7, deviation_kind: 'relative' as const, is_new: false, threshold: 0.2, limit: null };

describe('valueAgainst', () => {
  it.each([
    ['a relative change', base, { value: '1.87 vs 1.1', against: '+70.0%' }],
    ['a new key', { ...base, baseline: 0, is_new: true }, { value: '1.87 vs 0', against: 'new' }],
    ['a Jensen-Shannon distance, not a percent change', { ...base, value: 0.489, baseline: null, deviation: 0.489, deviation_kind: 'js_distance' as const }, { value: 'JSD 0.49', against: 'threshold 0.2' }],
    ['an unseen share', { ...base, value: 0.123, baseline: null, deviation_kind: 'unseen_share' as const, threshold: 0.1 }, { value: 'unseen 12.3%', against: 'threshold 10.0%' }],
    ['an absolute limit', { ...base, value: 38.8, baseline: 92, limit: { bound: 'above', value: 25 } }, { value: '38.8', against: 'limit: above 25' }],
  ])('%s', (_, a, expected) => {
    expect(valueAgainst(a)).toEqual(expected);
  });
});
