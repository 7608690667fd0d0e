import { describe, expect, it } from 'vitest';
import { holmAdjust } from '../../src/stats/index.js';

function expectAdjusted(actual: (number | null)[], expected: (number | null)[]): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((e, i) => {
    if (e === null) expect(actual[i]).toBeNull();
    else expect(actual[i]).toBeCloseTo(e, 14);
  });
}

describe('holmAdjust', () => {
  it.each<[string, (number | null)[], (number | null)[]]>([
    // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 -> raised to 0.06 to stay
    // monotone (worked by hand).
    ['the textbook example', [0.01, 0.04, 0.03, 0.005], [0.03, 0.06, 0.06, 0.02]],
    // Nulls keep their place and do not count: m = 4 as above.
    [
      'nulls kept in place, not counted in m',
      [null, 0.01, 0.04, null, 0.03, 0.005],
      [null, 0.03, 0.06, null, 0.06, 0.02],
    ],
    // 0.5·2 = 1, then 0.6 is raised to 1: capped, and still monotone.
    ['capped at 1', [0.6, 0.5], [1, 1]],
    ['a single test is not adjusted', [0.03], [0.03]],
    ['ties', [0.02, 0.02, 0.5], [0.06, 0.06, 0.5]],
    ['all null', [null, null], [null, null]],
    ['empty', [], []],
    ['NaN counts as undefined', [Number.NaN, 0.01, 0.02], [null, 0.02, 0.02]],
  ])('%s', (_, input, expected) => {
    expectAdjusted(holmAdjust(input), expected);
  });

  it('never lowers a p-value and is never stricter than Bonferroni', () => {
    const raw = [0.001, 0.2, 0.013, 0.04, 0.0004, 0.9, 0.03];
    const adjusted = holmAdjust(raw);
    raw.forEach((p, i) => {
      expect(adjusted[i]!).toBeGreaterThanOrEqual(p);
      expect(adjusted[i]!).toBeLessThanOrEqual(Math.min(1, p * raw.length));
    });
  });
});
