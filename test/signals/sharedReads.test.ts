import { describe, expect, it } from 'vitest';
import { MAX_SHARED_WINDOWS, ownRows, planShared, toOwn, type ReadPeers } from '../../src/signals/sharedReads.js';
import { evaluationWindows } from '../../src/signals/windows.js';
import { DAY, rule } from '../helpers/runs.js';

const AT = Date.parse('2026-03-15T03:20:00Z');
const by = { where: { environment: 'prod' }, groupBy: ['workflow_id'] } as const;
const week = [rule('tool_calls_per_run', { ...by, alert: 'tools' }), rule('cost_per_success', { ...by, alert: 'cost' })];
const fast = [rule('duration', { ...by, alert: 'p95', windowMs: DAY, baseline: { kind: 'seasonal', weeks: 3 }, options: { stat: 'p95' } }), rule('cost_per_success', { alert: 'all_cost', windowMs: DAY, baseline: { kind: 'seasonal', weeks: 3 } })];
const peers = (due: boolean[]): ReadPeers => ({ at: AT, groups: [week, fast].map((rules, i) => ({ rules, due: due[i]! })) });
const filter = JSON.stringify([by.where, by.groupBy]);
const bounds = (ws: readonly { startMs: number; endMs: number }[]) => ws.map((w) => [w.startMs, w.endMs]);

describe('planShared', () => {
  it("the due groups' windows with the filter, each once, the first group's first and in its order", () => {
    const plan = planShared(peers([true, true]), filter, false)!;
    const own = evaluationWindows(week[0]!, AT).fetch;
    expect(own.length).toBe(14);
    // The 1-day rule's current window and the one a week before are days of the 7-day rule's.
    const extra = [[AT - 15 * DAY, AT - 14 * DAY], [AT - 22 * DAY, AT - 21 * DAY]];
    expect(bounds(plan.windows)).toEqual([...bounds(own), ...extra]);
    expect(plan.windows.map((w) => w.index)).toEqual(plan.windows.map((_, i) => i));
    expect(plan.expected).toBe(2);
  });

  it.each([
    { keyed: false, due: [true, true], expected: 2, kinds: [] },
    { keyed: true, due: [true, true], expected: 2, kinds: ['tool', 'pair', 'duration'] },
    { keyed: true, due: [true, false], expected: 1, kinds: ['tool', 'pair'] },
    { keyed: true, due: [false, true], expected: 1, kinds: ['duration'] },
  ])('keyed $keyed, due $due: $expected readers, kinds $kinds', ({ keyed, due, expected, kinds }) => {
    const plan = planShared(peers(due), filter, keyed)!;
    expect(plan.expected).toBe(expected);
    expect(plan.kinds).toEqual(kinds);
  });

  it('nothing to plan when no group due reads the filter (or, keyed, reads keyed rows with it)', () => {
    expect(planShared(peers([false, false]), filter, false)).toBeNull();
    const totalsOnly: ReadPeers = { at: AT, groups: [{ rules: [week[1]!], due: true }] };
    expect(planShared(totalsOnly, filter, true)).toBeNull();
    expect(planShared(totalsOnly, filter, false)!.windows.length).toBe(14);
  });
});

describe('a union too wide to share', () => {
  it(`past ${MAX_SHARED_WINDOWS} windows nothing is shared: each group reads its own (rules each with a window of its own)`, () => {
    const many = (n: number) => Array.from({ length: n }, (_, r) => rule('cost_per_success', { ...by, alert: `r${r}`, windowMs: DAY - r * 60_000, baseline: { kind: 'previous', lengthMs: DAY - r * 60_000, offsetMs: 0 } }));
    const at = (rules: ReturnType<typeof many>): ReadPeers => ({ at: AT, groups: [{ rules, due: true }] });
    // Two windows per rule (the current one and the one before it).
    expect(planShared(at(many(MAX_SHARED_WINDOWS / 2)), filter, false)!.windows.length).toBe(MAX_SHARED_WINDOWS);
    expect(planShared(at(many(MAX_SHARED_WINDOWS / 2 + 1)), filter, false)).toBeNull();
    expect(planShared(at(many(1000)), filter, false)).toBeNull();
  });
});

describe('toOwn and ownRows', () => {
  const shared = [0, 1, 2, 3].map((i) => ({ index: i, startMs: i * DAY, endMs: (i + 1) * DAY }));
  const rows = shared.map((w) => ({ workflow_id: 'wf', w: w.index, runs: 10 + w.index }));

  it('maps the shared windows to the rule\'s own numbering, and refuses windows it lacks', () => {
    expect(toOwn(shared, [{ index: 0, startMs: 3 * DAY, endMs: 4 * DAY }, { index: 1, startMs: DAY, endMs: 2 * DAY }])).toEqual([-1, 1, -1, 0]);
    expect(toOwn(shared, [{ index: 0, startMs: 0, endMs: 2 * DAY }])).toBeNull();
  });

  it('keeps the rows of the rule\'s windows, renumbered; the same array for the same mapping; the rows themselves for the identity', () => {
    const mine = ownRows(rows, [-1, 1, -1, 0]);
    expect(mine).toEqual([{ workflow_id: 'wf', w: 1, runs: 11 }, { workflow_id: 'wf', w: 0, runs: 13 }]);
    expect(ownRows(rows, [-1, 1, -1, 0])).toBe(mine);
    // A prefix that is already the rule's numbering: the same row objects, the others left out.
    const prefix = ownRows(rows, [0, 1, -1, -1]);
    expect(prefix.length).toBe(2);
    expect(prefix[0]).toBe(rows[0]);
    expect(ownRows(rows, [0, 1, 2, 3])).toBe(rows);
  });
});
