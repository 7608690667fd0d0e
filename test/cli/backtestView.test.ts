/** How backtest prints (src/report/backtestView.ts): aligned tables, deviations as eval's, no extrapolated weeks. */
import { describe, expect, it } from 'vitest';
import { alignRows, backtestJson, formatBacktestText, spanText } from '../../src/report/backtestView.js';
import type { BacktestResult } from '../../src/engine/backtest.js';
import type { Rule, RuleSet } from '../../src/rules/types.js';

const rule = (alert: string, signal: Rule['signal'], options: Rule['options'] = {}) => ({ alert, signal, options }) as unknown as Rule;
const RULES: RuleSet = {
  groups: [{ name: 'g', schedule: { kind: 'interval', everyMs: 300_000 }, timeoutMs: 60_000, file: 'r.yaml', rules: [rule('ToolsUp', 'tool_calls_per_run'), rule('Schema', 'output_schema_shift')] }],
};

function result(from: string, to: string): BacktestResult {
  const t = { from: 'pending', to: 'firing', reason: 'for elapsed', p_value: 0 };
  return {
    from,
    to,
    evaluations: 4,
    transitions: [
      { ...t, at: from, rule: 'ToolsUp', signal: 'tool_calls_per_run', labels: { workflow_id: 'w', tool: 'enrich' }, current: 1.43, baseline: 1.1, deviation: 0.3 },
      { ...t, at: from, rule: 'ToolsUp', signal: 'tool_calls_per_run', labels: { workflow_id: 'w', tool: '__mix__' }, current: 0.12, baseline: 0, deviation: 0.12 },
      { ...t, at: to, rule: 'Schema', signal: 'output_schema_shift', labels: { workflow_id: 'report_generation' }, current: 0.399, baseline: 0, deviation: 0.399, p_value: 2e-9 },
    ],
    summary: [
      { rule: 'ToolsUp', signal: 'tool_calls_per_run', alerts: 2, firing_hours: 48, alerts_per_week: 7 },
      { rule: 'Schema', signal: 'output_schema_shift', alerts: 1, firing_hours: 0, alerts_per_week: 3.5 },
    ],
  };
}

describe('alignRows', () => {
  it('pads each column to its widest cell, the last one not at all', () => {
    expect(alignRows([['A', 'BB', 'C'], ['aaa', 'b', 'cccc']])).toEqual(['A    BB  C', 'aaa  b   cccc']);
  });
});

describe('spanText', () => {
  it.each([
    [3_600_000, '1 hour'],
    [12 * 3_600_000, '12 hours'],
    [36 * 3_600_000, '36 hours'],
    [2 * 86_400_000, '2 days'],
    [9.5 * 86_400_000, '9.5 days'],
  ])('%d ms: %s', (ms, want) => expect(spanText(ms)).toBe(want));
});

describe('formatBacktestText', () => {
  it('a span under a week: alerts over the span, no per-week column', () => {
    const text = formatBacktestText(backtestJson(result('2026-11-20T03:00:00.000Z', '2026-11-22T03:00:00.000Z'), RULES));
    const lines = text.split('\n');
    expect(lines[0]).toBe('backtest 2026-11-20T03:00:00.000Z .. 2026-11-22T03:00:00.000Z (2 days): 4 group evaluations, 3 transitions');
    expect(text).toMatch(/^RULE {5}SIGNAL {15}ALERTS {2}FIRING_HOURS$/m);
    expect(text).toMatch(/^ToolsUp {2}tool_calls_per_run {3}2 {7}48$/m);
    expect(text).not.toMatch(/PER_WEEK/);
    expect(lines[lines.length - 1]).toBe('alerts and firing hours over 2 days; alerts per week need a span of at least 7 days (not extrapolated)');
    // Deviations as eval prints them: a relative change, or a distance with no baseline.
    expect(text).toMatch(/ToolsUp\{workflow_id=w,tool=enrich\} +pending -> firing +1\.43 +1\.1 +\+30\.0% +<1e-16$/m);
    expect(text).toMatch(/ToolsUp\{workflow_id=w,tool=__mix__\} +pending -> firing +- +- +JSD 0\.12 +<1e-16$/m);
    expect(text).toMatch(/Schema\{workflow_id=report_generation\} +pending -> firing +- +- +JSD 0\.40 +2e-9$/m);
    // The transitions are one table: every row's TRANSITION starts in the same column.
    const rows = lines.filter((l) => l.startsWith('2026-') || l.startsWith('AT '));
    expect(new Set(rows.map((l) => l.search(/TRANSITION|pending ->/))).size).toBe(1);
  });

  it('a span of a week or more: alerts per week too', () => {
    const text = formatBacktestText(backtestJson(result('2026-11-08T03:00:00.000Z', '2026-11-22T03:00:00.000Z'), RULES));
    expect(text).toMatch(/^RULE {5}SIGNAL {15}ALERTS {2}FIRING_HOURS {2}ALERTS_PER_WEEK$/m);
    expect(text).toMatch(/^ToolsUp {2}tool_calls_per_run {3}2 {7}48 {12}7$/m);
    expect(text.split('\n').at(-1)).toBe('alerts and firing hours over 14 days');
  });
});

describe('backtestJson', () => {
  it.each([
    ['2026-11-20T03:00:00.000Z', 2, [null, null]],
    ['2026-11-15T03:00:00.000Z', 7, [7, 3.5]],
  ])('from %s: span_days %d, alerts_per_week %j', (from, days, perWeek) => {
    const json = backtestJson(result(from, '2026-11-22T03:00:00.000Z'), RULES);
    expect(json.span_days).toBe(days);
    expect(json.summary.map((s) => s.alerts_per_week)).toEqual(perWeek);
    expect(json.transitions.map((t) => [t.deviation_kind, t.baseline])).toEqual([['relative', 1.1], ['js_distance', null], ['js_distance', null]]);
  });
});
