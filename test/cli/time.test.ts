/** Times on the command line (src/cli/time.ts): ISO, `now` and relative times, from an injected "now". */
import { describe, expect, it } from 'vitest';
import { parseTime, TimeArgError } from '../../src/cli/time.js';

const NOW = Date.parse('2026-11-22T03:00:00Z');
const H = 3_600_000;
const D = 24 * H;

describe('parseTime', () => {
  it.each([
    ['now', NOW],
    ['NOW', NOW],
    ['-7d', NOW - 7 * D],
    ['-12h', NOW - 12 * H],
    ['-1h30m', NOW - 1.5 * H],
    ['+1h', NOW + H],
    ['now-7d', NOW - 7 * D],
    ['now - 2w', NOW - 14 * D],
    ['-0', NOW],
    ['2026-11-20T09:00:00Z', Date.parse('2026-11-20T09:00:00Z')],
    ['2026-11-20T09:00:00.250Z', Date.parse('2026-11-20T09:00:00.250Z')],
    ['2026-11-20T10:00:00+01:00', Date.parse('2026-11-20T09:00:00Z')],
    // Without an offset a time is UTC, as every time agentdrift prints, not the machine's zone.
    ['2026-11-20T09:00', Date.parse('2026-11-20T09:00:00Z')],
    ['2026-11-20 09:00:00', Date.parse('2026-11-20T09:00:00Z')],
    ['2026-11-20', Date.parse('2026-11-20T00:00:00Z')],
  ])('%s', (text, want) => {
    expect(parseTime(text, NOW)).toBe(want);
  });

  it.each(['yesterday', '', '7d', '-7 days', '-1.5h', '1', '2026-13-45', 'now+', 'Nov 20 2026'])('refuses %j with what it accepts', (text) => {
    expect(() => parseTime(text, NOW)).toThrow(TimeArgError);
    expect(() => parseTime(text, NOW)).toThrow(/as a time: use an ISO-8601 time .*, now, or a time relative to now such as -7d/);
  });
});
