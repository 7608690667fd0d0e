/**
 * mergeWindows (pure): the sums of several fetched windows as the sums of one. Every aggregate column
 * is a sum over runs, so the rows of disjoint windows that land in the same group, window and key add
 * up; the columns that say which row it is (group_by columns, w, key_kind, key) are kept.
 */
import { describe, expect, it } from 'vitest';
import { mergeWindows } from '../../src/signals/mergeWindows.js';
import { groupKeyOf } from '../../src/signals/sql.js';
import { SIGNAL_IMPLS } from '../../src/signals/index.js';
import type { SignalSums, SumsRow } from '../../src/signals/sums.js';
import { rule } from '../helpers/runs.js';

const byWorkflow = { groupBy: ['workflow_id'] as const };

/** Deep-frozen copy: a write to any input row or array throws in strict mode. */
function frozen(s: SignalSums): SignalSums {
  const rows = (rs: readonly SumsRow[]) => Object.freeze(rs.map((r) => Object.freeze({ ...r })));
  return Object.freeze({ totals: rows(s.totals), keyed: rows(s.keyed) });
}

const sorted = (rows: readonly SumsRow[]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('mergeWindows', () => {
  it('sums the numeric columns of the rows that land in the same group and window, keeping the identity columns', () => {
    const sums: SignalSums = {
      totals: [
        { workflow_id: 'a', w: 0, runs: 10, successes: 9, token_cost: 1.5 },
        { workflow_id: 'a', w: 1, runs: 20, successes: 18, token_cost: 2.5 },
        { workflow_id: 'a', w: 2, runs: 30, successes: 27, token_cost: 3 },
        { workflow_id: 'b', w: 0, runs: 5, successes: 5, token_cost: 1 },
        { workflow_id: 'b', w: 2, runs: 7, successes: 6, token_cost: 2 },
      ],
      keyed: [],
    };
    // Fetched windows 0 and 1 make window 0, fetched window 2 is window 1.
    const out = mergeWindows(byWorkflow, sums, (w) => (w < 2 ? 0 : 1));
    expect(sorted(out.totals)).toEqual(
      sorted([
        { workflow_id: 'a', w: 0, runs: 30, successes: 27, token_cost: 4 },
        { workflow_id: 'a', w: 1, runs: 30, successes: 27, token_cost: 3 },
        { workflow_id: 'b', w: 0, runs: 5, successes: 5, token_cost: 1 },
        { workflow_id: 'b', w: 1, runs: 7, successes: 6, token_cost: 2 },
      ]),
    );
    expect(out.keyed).toEqual([]);
  });

  it('keeps keyed rows apart by key kind and key, and sums each key across windows', () => {
    const sums: SignalSums = {
      totals: [],
      keyed: [
        { workflow_id: 'a', w: 0, key_kind: 'tool', key: 'search', value: 3, value_sq: 5, value_x_total: 7 },
        { workflow_id: 'a', w: 1, key_kind: 'tool', key: 'search', value: 4, value_sq: 6, value_x_total: 8 },
        { workflow_id: 'a', w: 1, key_kind: 'tool', key: 'enrich', value: 1, value_sq: 1, value_x_total: 2 },
        // The same name under another kind is another row.
        { workflow_id: 'a', w: 0, key_kind: 'fingerprint', key: 'search', value: 2, value_sq: 0, value_x_total: 0 },
        { workflow_id: 'a', w: 1, key_kind: 'fingerprint', key: 'search', value: 2, value_sq: 0, value_x_total: 0 },
      ],
    };
    const out = mergeWindows(byWorkflow, sums, () => 0);
    expect(sorted(out.keyed)).toEqual(
      sorted([
        { workflow_id: 'a', w: 0, key_kind: 'tool', key: 'search', value: 7, value_sq: 11, value_x_total: 15 },
        { workflow_id: 'a', w: 0, key_kind: 'tool', key: 'enrich', value: 1, value_sq: 1, value_x_total: 2 },
        { workflow_id: 'a', w: 0, key_kind: 'fingerprint', key: 'search', value: 4, value_sq: 0, value_x_total: 0 },
      ]),
    );
  });

  it('keeps every group_by column of a multi-column group as it was (not summed, not coerced)', () => {
    const r = { groupBy: ['workflow_id', 'model'] as const };
    const sums: SignalSums = {
      totals: [
        { workflow_id: 'a', model: 'm1', w: 0, runs: 1 },
        { workflow_id: 'a', model: 'm1', w: 1, runs: 2 },
        { workflow_id: 'a', model: 'm2', w: 1, runs: 4 },
      ],
      keyed: [],
    };
    const out = mergeWindows(r, sums, () => 0);
    expect(sorted(out.totals)).toEqual(sorted([{ workflow_id: 'a', model: 'm1', w: 0, runs: 3 }, { workflow_id: 'a', model: 'm2', w: 0, runs: 4 }]));
  });

  it('drops the rows whose target is null', () => {
    const sums: SignalSums = {
      totals: [
        { workflow_id: 'a', w: 0, runs: 1 },
        { workflow_id: 'a', w: 1, runs: 2 },
        { workflow_id: 'a', w: 2, runs: 4 },
      ],
      keyed: [{ workflow_id: 'a', w: 1, key_kind: 'tool', key: 't', value: 1 }],
    };
    const out = mergeWindows(byWorkflow, sums, (w) => (w === 1 ? null : 0));
    expect(out.totals).toEqual([{ workflow_id: 'a', w: 0, runs: 5 }]);
    expect(out.keyed).toEqual([]);
  });

  it('passes the target each row\'s fetched window and group key, so one group can leave out a window the other keeps', () => {
    const sums: SignalSums = {
      totals: [
        { workflow_id: 'a', w: 0, runs: 1 },
        { workflow_id: 'a', w: 1, runs: 2 },
        { workflow_id: 'b', w: 0, runs: 10 },
        { workflow_id: 'b', w: 1, runs: 20 },
      ],
      keyed: [],
    };
    const seen: [number, string][] = [];
    const out = mergeWindows(byWorkflow, sums, (w, g) => {
      seen.push([w, g]);
      return g === groupKeyOf(byWorkflow, { workflow_id: 'a' }) && w === 1 ? null : 0;
    });
    const a = groupKeyOf(byWorkflow, { workflow_id: 'a' });
    const b = groupKeyOf(byWorkflow, { workflow_id: 'b' });
    expect(seen).toEqual([
      [0, a],
      [1, a],
      [0, b],
      [1, b],
    ]);
    expect(sorted(out.totals)).toEqual(sorted([{ workflow_id: 'a', w: 0, runs: 1 }, { workflow_id: 'b', w: 0, runs: 30 }]));
  });

  it('does not modify its input (rows, arrays)', () => {
    const input: SignalSums = {
      totals: [
        { workflow_id: 'a', w: 0, runs: 1, token_cost: 0.5 },
        { workflow_id: 'a', w: 1, runs: 2, token_cost: 0.25 },
      ],
      keyed: [
        { workflow_id: 'a', w: 0, key_kind: 'tool', key: 't', value: 1 },
        { workflow_id: 'a', w: 1, key_kind: 'tool', key: 't', value: 2 },
      ],
    };
    const before = structuredClone(input);
    const out = mergeWindows(byWorkflow, frozen(input), () => 0);
    expect(out.totals).toEqual([{ workflow_id: 'a', w: 0, runs: 3, token_cost: 0.75 }]);
    expect(out.keyed).toEqual([{ workflow_id: 'a', w: 0, key_kind: 'tool', key: 't', value: 3 }]);
    // Without freezing too: the caller's rows keep their values and windows.
    const again = mergeWindows(byWorkflow, input, () => 0);
    expect(again.totals[0]).not.toBe(input.totals[0]);
    expect(input).toEqual(before);
  });

  it('sums values that arrive as strings (64-bit integers over HTTP) as numbers', () => {
    const sums: SignalSums = {
      totals: [
        { workflow_id: 'a', w: '0', runs: '10', successes: '9', token_cost: 1.5 },
        { workflow_id: 'a', w: '1', runs: '20', successes: 18, token_cost: '2.5' },
        { workflow_id: 'a', w: 2, runs: '9007199254740993', successes: '1', token_cost: 0 },
      ],
      keyed: [],
    };
    const out = mergeWindows(byWorkflow, sums, (w) => (w === 2 ? 1 : 0));
    const w0 = out.totals.find((r) => r.w === 0)!;
    expect(w0).toEqual({ workflow_id: 'a', w: 0, runs: 30, successes: 27, token_cost: 4 });
    expect(typeof w0.runs).toBe('number');
    // The window is a number whatever it arrived as; a lone row keeps its values (num() reads either).
    const w1 = out.totals.find((r) => r.w === 1)!;
    expect(Number(w1.runs)).toBe(9007199254740992);
    expect(out.totals.map((r) => typeof r.w)).toEqual(['number', 'number']);
  });

  it('a group column that is absent or null counts as the empty string, as GroupTable keys it', () => {
    const sums: SignalSums = {
      totals: [
        { w: 0, runs: 1, workflow_id: null },
        { w: 1, runs: 2 },
        { w: 1, runs: 4, workflow_id: '' },
      ],
      keyed: [],
    };
    const out = mergeWindows(byWorkflow, sums, () => 0);
    expect(out.totals).toHaveLength(1);
    expect(out.totals[0]).toMatchObject({ w: 0, runs: 7 });
  });

  it('merged days measure as the window they make up (cost_per_success on rows summed by hand)', () => {
    const r = rule('cost_per_success', { groupBy: ['workflow_id'] });
    const row = (w: number, runs: number, successes: number, cost: number): SumsRow => ({
      w, workflow_id: 'wf', runs, successes, token_cost: cost, token_cost_sq: cost * cost, success_token_cost: cost * 0.9,
      tool_cost: 0, tool_cost_sq: 0, success_tool_cost: 0, token_x_tool_cost: 0,
    });
    // Fetched 0..2: the current window's days; 3..5: the baseline's.
    const days: SignalSums = { totals: [row(0, 10, 9, 1), row(1, 10, 8, 2), row(2, 20, 18, 3), row(3, 10, 10, 1), row(4, 10, 10, 1), row(5, 10, 10, 1)], keyed: [] };
    // The same runs as whole windows, summed by hand: Σcost² 1 + 4 + 9 = 14 and 1 + 1 + 1 = 3.
    const whole: SignalSums = { totals: [{ ...row(0, 40, 35, 6), token_cost_sq: 14 }, { ...row(1, 30, 30, 3), token_cost_sq: 3 }], keyed: [] };
    const windows = [{ index: 0, startMs: 0, endMs: 1 }, { index: 1, startMs: 1, endMs: 2 }];
    const merged = mergeWindows(r, days, (w) => (w < 3 ? 0 : 1));
    const [a] = SIGNAL_IMPLS.cost_per_success.measure(r, windows, merged);
    const [b] = SIGNAL_IMPLS.cost_per_success.measure(r, windows, whole);
    expect(a!.current).toBeCloseTo(6 / 35, 12);
    expect(a!.baseline).toBeCloseTo(3 / 30, 12);
    expect(a!.current).toBeCloseTo(b!.current!, 12);
    expect(a!.test!.statistic).toBeCloseTo(b!.test!.statistic, 9);
  });
});

describe('groupKeyOf', () => {
  const two = { groupBy: ['workflow_id', 'model'] as const };

  it('depends on the group_by values only, read as strings', () => {
    expect(groupKeyOf(two, { workflow_id: 'wf', model: 'm', w: 3, runs: 10 })).toBe(groupKeyOf(two, { model: 'm', workflow_id: 'wf', w: 0 }));
    expect(groupKeyOf(byWorkflow, { workflow_id: 12 })).toBe(groupKeyOf(byWorkflow, { workflow_id: '12' }));
    // Absent and null are the empty string, as GroupTable reads them.
    expect(groupKeyOf(byWorkflow, {})).toBe(groupKeyOf(byWorkflow, { workflow_id: '' }));
    expect(groupKeyOf(byWorkflow, { workflow_id: null })).toBe(groupKeyOf(byWorkflow, { workflow_id: '' }));
    // Without group_by every row is in the one group.
    expect(groupKeyOf({ groupBy: [] }, { workflow_id: 'a' })).toBe(groupKeyOf({ groupBy: [] }, { workflow_id: 'b' }));
  });

  it('tells different groups apart, in group_by order', () => {
    expect(groupKeyOf(byWorkflow, { workflow_id: 'a' })).not.toBe(groupKeyOf(byWorkflow, { workflow_id: 'b' }));
    expect(groupKeyOf(two, { workflow_id: 'a', model: 'b' })).not.toBe(groupKeyOf(two, { workflow_id: 'b', model: 'a' }));
    expect(groupKeyOf(two, { workflow_id: 'ab', model: '' })).not.toBe(groupKeyOf(two, { workflow_id: 'a', model: 'b' }));
    expect(groupKeyOf(two, { workflow_id: 'a","b', model: 'c' })).not.toBe(groupKeyOf(two, { workflow_id: 'a', model: 'b","c' }));
    expect(groupKeyOf(two, { workflow_id: 'a,b', model: 'c' })).not.toBe(groupKeyOf(two, { workflow_id: 'a', model: 'b,c' }));
  });

  it('is the same for a sums row and the labels of the measurement made from it (what robust.ts keys trimmed days by)', () => {
    const r = rule('cost_per_success', { groupBy: ['workflow_id', 'model'] });
    const row: SumsRow = { w: 0, workflow_id: 'wf', model: 'm', runs: 4, successes: 2, token_cost: 1, token_cost_sq: 1, success_token_cost: 0.5 };
    const windows = [{ index: 0, startMs: 0, endMs: 1 }, { index: 1, startMs: 1, endMs: 2 }];
    const [m] = SIGNAL_IMPLS.cost_per_success.measure(r, windows, { totals: [row, { ...row, w: 1 }], keyed: [] });
    expect(groupKeyOf(r, m!.labels)).toBe(groupKeyOf(r, row));
  });
});
