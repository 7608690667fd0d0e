/** How eval shows its rows (src/report/evalView.ts): which, in which order, deviations, --fail-on. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/context.js';
import { DEFAULT_STATES, deviationKindOf, failsOn, formatDeviation, hiddenLine, selectRows, sortRows, STATES, type DeviationKind } from '../../src/report/evalView.js';
import { parseStates } from '../../src/cli/options.js';
import { formatP } from '../../src/util/format.js';

describe('deviationKindOf', () => {
  it.each([
    ['tool_calls_per_run', {}, 'enrich_company', 'relative'],
    ['tool_calls_per_run', {}, '__mix__', 'js_distance'],
    ['policy_activation_rate', {}, '', 'relative'],
    ['cost_per_success', {}, '', 'relative'],
    ['output_schema_shift', {}, '', 'js_distance'],
    ['output_schema_shift', { measure: 'js_distance' }, '', 'js_distance'],
    ['output_schema_shift', { measure: 'unseen_share' }, '', 'unseen_share'],
    ['output_schema_shift', { measure: 'share' }, 'fp-1', 'relative'],
  ] as const)('%s %j key %j: %s', (signal, options, key, want) => {
    expect(deviationKindOf({ signal, options }, key)).toBe(want);
  });
});

describe('formatDeviation', () => {
  it.each([
    ['relative', 0.411, false, '+41.1%'],
    ['relative', -0.003, false, '-0.3%'],
    ['relative', 2, true, 'new'],
    ['relative', null, false, 'n/a'],
    ['js_distance', 0.411, false, 'JSD 0.41'],
    ['js_distance', 0.102, true, 'JSD 0.10'],
    ['js_distance', null, false, 'n/a'],
    ['unseen_share', 0.442, false, 'unseen 44.2%'],
  ] as [DeviationKind, number | null, boolean, string][])('%s %s (new: %s): %s', (kind, x, isNew, want) => {
    expect(formatDeviation(kind, x, isNew)).toBe(want);
  });
});

describe('formatP', () => {
  it.each([
    [null, 'n/a'],
    [1, '1'],
    [0.034, '0.034'],
    [1e-12, '1e-12'],
    [7e-233, '7e-233'],
    // 0 is a p-value below what 1 - cdf can resolve in a double, not "no chance at all".
    [0, '<1e-16'],
  ])('%s: %s', (p, want) => {
    expect(formatP(p)).toBe(want);
  });
});

describe('--state', () => {
  it.each([
    [undefined, DEFAULT_STATES],
    [[], DEFAULT_STATES],
    [['firing'], ['firing']],
    [['firing', 'pending'], ['firing', 'pending']],
    [['firing,pending'], ['firing', 'pending']],
    [['pending, firing'], ['pending', 'firing']],
    [['all'], STATES],
    [['inactive', 'all'], ['inactive', ...STATES.filter((s) => s !== 'inactive')]],
  ] as [string[] | undefined, readonly string[]][])('%j', (values, want) => {
    expect([...parseStates(values)].sort()).toEqual([...want].sort());
  });

  it('leaves out inactive by default', () => {
    expect(DEFAULT_STATES).not.toContain('inactive');
    expect(DEFAULT_STATES).toEqual(expect.arrayContaining(['firing', 'pending', 'error', 'nodata']));
  });

  it.each(['nope', ',', 'firing,nope'])('refuses %j naming what it takes', (v) => {
    expect(() => parseStates([v])).toThrow(new UsageError(`--state must be ${STATES.join(', ')} or all${v === ',' ? '' : ` (repeated or comma-separated), got "nope"`}`));
  });
});

const row = (state: string, deviation: number | null) => ({ state, deviation, id: `${state}:${deviation}` });

describe('sortRows and selectRows', () => {
  it('firing, then pending, then the rest; the largest |deviation| first within a state', () => {
    const rows = [row('inactive', 0.5), row('pending', 0.3), row('firing', 0.2), row('firing', -0.9), row('inactive', null), row('error', null), row('pending', 0.4), row('inactive', -0.7)];
    expect(sortRows(rows).map((r) => r.id)).toEqual([
      'firing:-0.9', 'firing:0.2', 'pending:0.4', 'pending:0.3', 'error:null', 'inactive:-0.7', 'inactive:0.5', 'inactive:null',
    ]);
  });

  it('counts what it leaves out, and says how to see it', () => {
    const rows = [row('firing', 1), row('inactive', 0), row('inactive', 0.1), row('pending', 0.2)];
    const { shown, hidden } = selectRows(rows, DEFAULT_STATES);
    expect(shown.map((r) => r.state)).toEqual(['firing', 'pending']);
    expect(hidden).toEqual({ inactive: 2 });
    expect(hiddenLine(hidden)).toBe('2 inactive series not shown (--state all shows every series)');
    expect(hiddenLine(selectRows(rows, ['firing']).hidden)).toBe('1 pending, 2 inactive series not shown (--state all shows every series)');
    expect(hiddenLine({})).toBeNull();
  });
});

describe('--fail-on', () => {
  it.each([
    ['none', ['firing'], false],
    ['firing', ['inactive', 'pending'], false],
    ['firing', ['inactive', 'firing'], true],
    ['pending', ['inactive', 'pending'], true],
    ['pending', ['firing'], true],
    ['pending', ['inactive', 'error'], false],
  ] as const)('%s with %j: %s', (failOn, states, want) => {
    expect(failsOn(states.map((s) => row(s, 0)), failOn)).toBe(want);
  });
});
