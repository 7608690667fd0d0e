/**
 * evaluationWindows (pure): every window one evaluation reads. Non-robust rules fetch windowsFor's
 * windows as they are; a robust rule (a previous baseline, window and baseline of 3 days or more, not
 * `robust: false`) fetches the current and baseline windows as days; a confirm window is fetched last.
 */
import { describe, expect, it } from 'vitest';
import type { Rule } from '../../src/rules/types.js';
import type { WindowBounds } from '../../src/signals/types.js';
import { evaluationWindows, isRobust, ROBUST_MIN_MS, windowsFor, type EvaluationWindows } from '../../src/signals/windows.js';
import { AT, DAY, HOUR, WEEK, rule } from '../helpers/runs.js';

const previous = (lengthMs: number, offsetMs = 0, robust?: boolean): Rule['baseline'] => ({ kind: 'previous', lengthMs, offsetMs, ...(robust === undefined ? {} : { robust }) });

/** Every plan: fetched windows numbered by position, parts in time order and covering their main window exactly. */
function expectConsistent(plan: EvaluationWindows): void {
  plan.fetch.forEach((w, i) => expect(w.index).toBe(i));
  expect(plan.parts).toHaveLength(plan.main.length);
  plan.parts.forEach((ids, i) => {
    const main = plan.main[i]!;
    const pieces = ids.map((id) => plan.fetch[id]!);
    expect(pieces[0]!.startMs).toBe(main.startMs);
    expect(pieces[pieces.length - 1]!.endMs).toBe(main.endMs);
    for (let k = 1; k < pieces.length; k++) expect(pieces[k]!.startMs).toBe(pieces[k - 1]!.endMs);
    for (const p of pieces) expect(p.endMs).toBeGreaterThan(p.startMs);
  });
  // Every fetched window is a part or the confirm window, each once (a confirm window that is the
  // current window's last day is that part).
  const used = [...new Set([...plan.parts.flat(), ...(plan.confirm === null ? [] : [plan.confirm])])].sort((a, b) => a - b);
  expect(used).toEqual(plan.fetch.map((_, i) => i));
}

const lengths = (ws: readonly WindowBounds[]) => ws.map((w) => (w.endMs - w.startMs) / HOUR);

describe('isRobust', () => {
  it.each<[string, Partial<Rule>, boolean]>([
    ['7d window, previous 7d', {}, true],
    ['3d window, previous 3d (the minimum)', { windowMs: 3 * DAY, baseline: previous(3 * DAY) }, true],
    ['7d window, previous 14d, offset 1d', { baseline: previous(14 * DAY, DAY) }, true],
    ['robust: true written out', { baseline: previous(WEEK, 0, true) }, true],
    ['robust: false', { baseline: previous(WEEK, 0, false) }, false],
    ['window under 3d', { windowMs: 3 * DAY - 1, baseline: previous(WEEK) }, false],
    ['1d window, previous 1d', { windowMs: DAY, baseline: previous(DAY) }, false],
    ['baseline under 3d', { baseline: previous(2 * DAY) }, false],
    ['seasonal baseline', { baseline: { kind: 'seasonal', weeks: 3 } }, false],
  ])('%s: %s', (_name, over, expected) => {
    expect(isRobust(rule('cost_per_success', over))).toBe(expected);
  });

  it('3 days is the threshold', () => {
    expect(ROBUST_MIN_MS).toBe(3 * DAY);
  });
});

describe('evaluationWindows: non-robust rules fetch the main windows as they are', () => {
  it.each<[string, Partial<Rule>]>([
    ['seasonal baseline', { windowMs: DAY, baseline: { kind: 'seasonal', weeks: 3 } }],
    ['window under 3d', { windowMs: 2 * DAY, baseline: previous(2 * DAY) }],
    ['robust: false', { baseline: previous(WEEK, 0, false) }],
    ['baseline under 3d', { baseline: previous(DAY, HOUR) }],
  ])('%s', (_name, over) => {
    const r = rule('cost_per_success', over);
    const plan = evaluationWindows(r, AT);
    expect(plan.robust).toBe(false);
    expect(plan.main).toEqual(windowsFor(r.windowMs, r.baseline, AT));
    expect(plan.fetch).toEqual(plan.main);
    expect(plan.parts).toEqual(plan.main.map((w) => [w.index]));
    expect(plan.confirm).toBeNull();
    expectConsistent(plan);
  });

  it('a seasonal baseline: the current window and one window per week back', () => {
    const plan = evaluationWindows(rule('cost_per_success', { windowMs: DAY, baseline: { kind: 'seasonal', weeks: 3 } }), AT);
    expect(plan.fetch).toEqual([
      { index: 0, startMs: AT - DAY, endMs: AT },
      { index: 1, startMs: AT - DAY - WEEK, endMs: AT - WEEK },
      { index: 2, startMs: AT - DAY - 2 * WEEK, endMs: AT - 2 * WEEK },
      { index: 3, startMs: AT - DAY - 3 * WEEK, endMs: AT - 3 * WEEK },
    ]);
    expect(plan.parts).toEqual([[0], [1], [2], [3]]);
  });
});

describe('evaluationWindows: robust rules fetch each window as days', () => {
  it('7d against the previous 7d: fourteen days, current first, each window ending at its end', () => {
    const plan = evaluationWindows(rule('cost_per_success'), AT);
    expect(plan.robust).toBe(true);
    expect(plan.main).toEqual([
      { index: 0, startMs: AT - WEEK, endMs: AT },
      { index: 1, startMs: AT - 2 * WEEK, endMs: AT - WEEK },
    ]);
    expect(plan.parts).toEqual([
      [0, 1, 2, 3, 4, 5, 6],
      [7, 8, 9, 10, 11, 12, 13],
    ]);
    expect(plan.fetch).toHaveLength(14);
    expect(plan.fetch[0]).toEqual({ index: 0, startMs: AT - 7 * DAY, endMs: AT - 6 * DAY });
    expect(plan.fetch[6]).toEqual({ index: 6, startMs: AT - DAY, endMs: AT });
    expect(plan.fetch[7]).toEqual({ index: 7, startMs: AT - 14 * DAY, endMs: AT - 13 * DAY });
    expect(plan.fetch[13]).toEqual({ index: 13, startMs: AT - 8 * DAY, endMs: AT - 7 * DAY });
    expect(lengths(plan.fetch)).toEqual(Array(14).fill(24));
    expect(plan.confirm).toBeNull();
    expectConsistent(plan);
  });

  it('a longer, offset baseline: as many days as it is long, ending where it ends', () => {
    const plan = evaluationWindows(rule('cost_per_success', { baseline: previous(14 * DAY, DAY) }), AT);
    expect(plan.parts.map((p) => p.length)).toEqual([7, 14]);
    const baseline = plan.parts[1]!.map((i) => plan.fetch[i]!);
    expect(baseline[0]!.startMs).toBe(AT - WEEK - DAY - 14 * DAY);
    expect(baseline[13]!.endMs).toBe(AT - WEEK - DAY);
    expectConsistent(plan);
  });

  it.each<[string, number, number[]]>([
    // round(3.5) = 4 pieces: the first takes the 12h left over.
    ['3d12h', 3 * DAY + 12 * HOUR, [12, 24, 24, 24]],
    // round(3.25) = 3 pieces: the first is 30h.
    ['3d6h', 3 * DAY + 6 * HOUR, [30, 24, 24]],
    ['3d', 3 * DAY, [24, 24, 24]],
  ])('a %s window: contiguous pieces covering exactly the window, the last a whole day ending at its end', (_name, windowMs, hours) => {
    const plan = evaluationWindows(rule('cost_per_success', { windowMs, baseline: previous(windowMs) }), AT);
    expect(plan.robust).toBe(true);
    for (const ids of plan.parts) expect(lengths(ids.map((i) => plan.fetch[i]!))).toEqual(hours);
    expect(plan.fetch[plan.parts[0]![plan.parts[0]!.length - 1]!]!.endMs).toBe(AT);
    expectConsistent(plan);
  });

  it('an evaluation time off the day grid: days counted back from the window end, not from midnight', () => {
    const at = AT + 5 * HOUR + 17 * 60_000;
    const plan = evaluationWindows(rule('cost_per_success'), at);
    expect(plan.fetch[6]).toEqual({ index: 6, startMs: at - DAY, endMs: at });
    expect(plan.fetch[0]!.startMs).toBe(at - WEEK);
    expectConsistent(plan);
  });
});

describe('evaluationWindows: the confirm window', () => {
  it('is the current window\'s last day on a robust rule with a one-day confirm window (not fetched twice)', () => {
    const plan = evaluationWindows(rule('cost_per_success', { confirmWindowMs: DAY }), AT);
    expect(plan.fetch).toHaveLength(14);
    expect(plan.confirm).toBe(6);
    expect(plan.fetch[6]).toEqual({ index: 6, startMs: AT - DAY, endMs: AT });
    expect(plan.parts[0]![6]).toBe(6);
    expectConsistent(plan);
  });

  it('is fetched last, as [at - confirm, at), on a robust rule when it is not a day', () => {
    const plan = evaluationWindows(rule('cost_per_success', { confirmWindowMs: 6 * HOUR }), AT);
    expect(plan.fetch).toHaveLength(15);
    expect(plan.confirm).toBe(14);
    expect(plan.fetch[14]).toEqual({ index: 14, startMs: AT - 6 * HOUR, endMs: AT });
    expect(plan.parts.flat()).not.toContain(14);
    expectConsistent(plan);
  });

  it('is fetched last on a non-robust rule too', () => {
    const r = rule('cost_per_success', { baseline: previous(WEEK, 0, false), confirmWindowMs: 6 * HOUR });
    const plan = evaluationWindows(r, AT);
    expect(plan.fetch).toEqual([
      { index: 0, startMs: AT - WEEK, endMs: AT },
      { index: 1, startMs: AT - 2 * WEEK, endMs: AT - WEEK },
      { index: 2, startMs: AT - 6 * HOUR, endMs: AT },
    ]);
    expect(plan.parts).toEqual([[0], [1]]);
    expect(plan.confirm).toBe(2);
  });

  it('on a seasonal rule: after every week back', () => {
    const plan = evaluationWindows(rule('cost_per_success', { windowMs: DAY, baseline: { kind: 'seasonal', weeks: 2 }, confirmWindowMs: HOUR }), AT);
    expect(plan.confirm).toBe(3);
    expect(plan.fetch[3]).toEqual({ index: 3, startMs: AT - HOUR, endMs: AT });
  });

  it('a confirm window not shorter than the window is not fetched (validation rejects it)', () => {
    expect(evaluationWindows(rule('cost_per_success', { confirmWindowMs: WEEK }), AT).confirm).toBeNull();
    expect(evaluationWindows(rule('cost_per_success', { confirmWindowMs: 2 * WEEK }), AT).fetch).toHaveLength(14);
  });
});
