import { describe, expect, it } from 'vitest';
import { exceedsThreshold, relativeDeviation, type DeviationDirection } from '../../src/stats/index.js';

describe('relativeDeviation', () => {
  it.each([
    // The design's motivating case: tool calls per run 1.1 -> 2.0 is +81.8%.
    [2.0, 1.1, 0.9 / 1.1],
    [1.1, 2.0, -0.45],
    [5, 5, 0],
    [0, 4, -1],
  ])('(%s - %s) / %s', (current, baseline, expected) => {
    expect(relativeDeviation(current, baseline)).toBeCloseTo(expected, 14);
  });

  it.each([
    ['a zero baseline: a rise from nothing is new, not a percentage', 3, 0],
    ['zero over zero', 0, 0],
    ['a NaN current', Number.NaN, 1],
    ['an infinite baseline', 1, Number.POSITIVE_INFINITY],
    ['an infinite current', Number.POSITIVE_INFINITY, 1],
  ])('is null for %s', (_, current, baseline) => {
    expect(relativeDeviation(current, baseline)).toBeNull();
  });
});

describe('exceedsThreshold', () => {
  it.each<[number | null, number, DeviationDirection, boolean]>([
    [0.25, 0.2, 'up', true],
    [0.2, 0.2, 'up', true], // the boundary passes: "20%" fires at exactly +20%
    [0.19, 0.2, 'up', false],
    [-0.5, 0.2, 'up', false],
    [-0.25, 0.2, 'down', true],
    [-0.2, 0.2, 'down', true],
    [-0.19, 0.2, 'down', false],
    [0.5, 0.2, 'down', false],
    [0.3, 0.2, 'both', true],
    [-0.3, 0.2, 'both', true],
    [-0.2, 0.2, 'both', true],
    [0.1, 0.2, 'both', false],
    [-0.1, 0.2, 'both', false],
    [0, 0, 'both', true], // threshold 0 means "any change, or none": the rule's min_runs/significance decide
    [null, 0, 'both', false], // undefined deviation: the caller handles "new" on its own
    [Number.NaN, 0.2, 'both', false],
  ])('deviation %s, threshold %s, %s -> %s', (deviation, threshold, direction, expected) => {
    expect(exceedsThreshold(deviation, threshold, direction)).toBe(expected);
  });
});
