import { describe, expect, it } from 'vitest';
import { median } from '../../src/stats/index.js';

describe('median', () => {
  it.each<[string, number[], number | null]>([
    ['odd count, unsorted', [3, 1, 2], 2],
    ['even count: mean of the middle two', [4, 1, 3, 2], 2.5],
    ['a single value', [7], 7],
    ['empty', [], null],
    ['one outlier week does not move it', [1.0, 1.1, 9.0, 1.05, 0.95], 1.05],
    ['non-finite weeks are skipped', [1, Number.NaN, 3, Number.POSITIVE_INFINITY], 2],
    ['only non-finite weeks', [Number.NaN], null],
    ['no overflow near the largest double', [Number.MAX_VALUE, Number.MAX_VALUE], Number.MAX_VALUE],
  ])('%s', (_, values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it('leaves its input untouched', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});
