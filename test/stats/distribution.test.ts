import { describe, expect, it } from 'vitest';
import { jensenShannonDistance, shares, unseenShare } from '../../src/stats/index.js';

describe('shares', () => {
  it('normalises counts, keeping zero keys', () => {
    expect(shares({ a: 3, b: 1, c: 0 })).toEqual({ a: 0.75, b: 0.25, c: 0 });
  });

  it.each([
    ['no keys', {}],
    ['only zeros', { a: 0, b: 0 }],
    ['a negative count', { a: 3, b: -1 }],
    ['a non-finite count', { a: Number.POSITIVE_INFINITY }],
  ])('is null for %s', (_, counts) => {
    expect(shares(counts)).toBeNull();
  });
});

describe('jensenShannonDistance', () => {
  it.each([
    ['identical counts', { a: 5, b: 3, c: 2 }, { a: 5, b: 3, c: 2 }, 0],
    ['identical shares at different volumes', { a: 5, b: 3, c: 2 }, { a: 50, b: 30, c: 20 }, 0],
    ['disjoint support', { a: 5, b: 3 }, { c: 7, d: 1 }, 1],
    ['disjoint support, zero keys listed', { a: 5, b: 0 }, { a: 0, b: 9 }, 1],
    // scipy 1.17.1 scipy.spatial.distance.jensenshannon([1,1],[1,0], base=2) = 0.5579230452841438;
    // by hand: M = (3/4, 1/4), JSD = ½(½log2(2/3) + ½log2 2) + ½ log2(4/3) = 0.311278..., sqrt = 0.557923...
    ['half the mass moved to a new key', { a: 1, b: 1 }, { a: 1 }, 0.5579230452841438],
    // jensenshannon([5,3,2,0],[4,4,1,1], base=2) = 0.2672855221530687
    ['a reshuffled mix', { a: 5, b: 3, c: 2 }, { a: 4, b: 4, c: 1, d: 1 }, 0.2672855221530687],
  ])('%s', (_, p, q, expected) => {
    expect(jensenShannonDistance(p, q)).toBeCloseTo(expected, 12);
    // A metric: symmetric.
    expect(jensenShannonDistance(q, p)).toBeCloseTo(expected, 12);
  });

  it('is exactly 0 and 1 at the ends, not a rounding error away', () => {
    expect(jensenShannonDistance({ a: 1, b: 2 }, { a: 1, b: 2 })).toBe(0);
    expect(jensenShannonDistance({ a: 0.1, b: 0.7 }, { c: 0.3 })).toBe(1);
  });

  it('is null when either side has no mass', () => {
    expect(jensenShannonDistance({}, { a: 1 })).toBeNull();
    expect(jensenShannonDistance({ a: 1 }, { a: 0 })).toBeNull();
  });
});

describe('unseenShare', () => {
  it.each([
    // b has a baseline count of 0 and "new" is absent: (3 + 2) / 10 of the current mass.
    ['absent and zero baseline keys', { a: 5, b: 3, new: 2 }, { a: 10, b: 0 }, 0.5],
    ['nothing new', { a: 5, b: 5 }, { a: 1, b: 1, c: 4 }, 0],
    ['everything new', { x: 2 }, { a: 1 }, 1],
    ['an empty baseline: all of it is unseen', { a: 1, b: 3 }, {}, 1],
    ['a new key with no current mass does not count', { a: 4, new: 0 }, { a: 1 }, 0],
  ])('%s', (_, current, baseline, expected) => {
    expect(unseenShare(current, baseline)).toBeCloseTo(expected, 15);
  });

  it('is null when the current window has no mass or a count is invalid', () => {
    expect(unseenShare({}, { a: 1 })).toBeNull();
    expect(unseenShare({ a: 0 }, { a: 1 })).toBeNull();
    expect(unseenShare({ a: 1 }, { a: -1 })).toBeNull();
  });
});
