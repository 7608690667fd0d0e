import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/yaml/duration.js';
import { formatPercent, parsePercent } from '../../src/yaml/percent.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it.each([
    ['30s', 30 * S],
    ['5m', 5 * M],
    ['1h30m', H + 30 * M],
    ['7d', 7 * D],
    ['2w', 14 * D],
    ['500ms', 500],
    ['1y', 365 * D],
    ['1d12h', 36 * H],
    ['1m30s500ms', 90 * S + 500],
    ['0s', 0],
    ['0', 0],
    ['90d', 90 * D],
  ])('%s -> %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['7 days', '-1h', '0x', '', '1.5h', '30m1h', '5mm', '1h 30m', ' 5m', 'm', '5M', '1e3s', '99999999999999999999y'])(
    'rejects %j',
    (text) => {
      expect(() => parseDuration(text)).toThrow(/duration/);
    },
  );
});

describe('formatDuration', () => {
  it.each([
    [1_800_000, '30m'],
    [5_400_000, '1h30m'],
    // days at most: a 7d window reads as the rule file wrote it, not as "1w"
    [604_800_000, '7d'],
    [8 * D, '8d'],
    [365 * D, '365d'],
    [26 * H + 3 * M + 4 * S, '1d2h3m4s'],
    [500, '500ms'],
    [0, '0s'],
    [1500, '1s500ms'],
    [90 * S, '1m30s'],
    [90 * S + 500, '1m30s500ms'],
    [-5 * M, '-5m'],
  ])('%d -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 61 * S, 25 * H, 13 * D, 400 * D]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe('parsePercent', () => {
  it.each([
    ['20%', 0.2],
    ['12.5%', 0.125],
    ['0.2', 0.2],
    [0.2, 0.2],
    ['100%', 1],
    ['150%', 1.5],
    ['-5%', -0.05],
    ['.5', 0.5],
  ] as const)('%j -> %d', (input, value) => {
    expect(parsePercent(input)).toBeCloseTo(value, 12);
  });

  it.each(['20 %', '20%%', '%', 'twenty', '1e3%', '', '20percent', Number.NaN, Number.POSITIVE_INFINITY])('rejects %j', (input) => {
    expect(() => parsePercent(input)).toThrow(/invalid percentage/);
  });

  it('formats fractions for messages', () => {
    expect(formatPercent(0.2)).toBe('20%');
    expect(formatPercent(0.125)).toBe('12.5%');
    expect(formatPercent(20)).toBe('2000%');
  });
});
