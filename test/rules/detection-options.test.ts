/**
 * The rule keys of the detection options: `confirm_window`, `resolve_threshold`, `baseline.robust`
 * and `measure: share` (output_schema_shift), as parseRules reads and checks them; and the shipped
 * rules/default.yaml, whose 7-day rules confirm on the last day.
 */
import { describe, expect, it } from 'vitest';
import { loadRuleFiles, parseRules } from '../../src/rules/load.js';
import type { Rule, RuleSet } from '../../src/rules/types.js';
import { formatProblem } from '../../src/yaml/problem.js';

const DAY = 86_400_000;
const WEEK = 7 * DAY;

/** One group around one rule: `body` holds the rule's keys, one per line (the first on line 5, col 9). */
function oneRule(body: string): string {
  return `groups:\n  - name: g\n    interval: 5m\n    rules:\n      - ${body.trim().split('\n').join('\n        ')}\n`;
}

function parse(body: string, file = 'r.yaml'): { ruleSet: RuleSet | null; lines: string[] } {
  const r = parseRules([{ file, text: oneRule(body) }]);
  return { ruleSet: r.ruleSet, lines: r.problems.map(formatProblem) };
}

function rule(body: string): Rule {
  const { ruleSet, lines } = parse(body);
  expect(lines).toEqual([]);
  return ruleSet!.groups[0]!.rules[0]!;
}

/** Keys from line 8 on. */
const COST = 'alert: A\nsignal: cost_per_success\nthreshold: 20%';
const SCHEMA = 'alert: A\nsignal: output_schema_shift';

describe('accepted', () => {
  it.each<[string, string, Partial<Rule>]>([
    ['confirm_window: 1d', COST, { confirmWindowMs: DAY, windowMs: WEEK }],
    ['confirm_window: 6h', COST, { confirmWindowMs: 6 * 3_600_000 }],
    ['window: 3d\nconfirm_window: 2d23h', COST, { windowMs: 3 * DAY, confirmWindowMs: 3 * DAY - 3_600_000 }],
    ['window: 1d\nbaseline: { seasonal_weeks: 3 }\nconfirm_window: 1h', COST, { confirmWindowMs: 3_600_000, baseline: { kind: 'seasonal', weeks: 3 } }],
    ['confirm_window: 1m', COST, { confirmWindowMs: 60_000 }],
    ['resolve_threshold: 10%', COST, { resolveThreshold: 0.1 }],
    ['resolve_threshold: 0.05', COST, { resolveThreshold: 0.05 }],
    ['resolve_threshold: 0', COST, { resolveThreshold: 0 }],
    ['resolve_threshold: 0%', COST, { resolveThreshold: 0 }],
    ['resolve_threshold: 20%', COST, { resolveThreshold: 0.2 }],
    ['baseline: { previous: 7d, robust: false }', COST, { baseline: { kind: 'previous', lengthMs: WEEK, offsetMs: 0, robust: false } }],
    ['baseline: { previous: 14d, offset: 1d, robust: false }', COST, { baseline: { kind: 'previous', lengthMs: 2 * WEEK, offsetMs: DAY, robust: false } }],
    ['measure: share\nthreshold: 30%', SCHEMA, { options: { measure: 'share' }, threshold: 0.3, direction: 'up' }],
    ['measure: share\nthreshold: 30%\ndirection: both', SCHEMA, { options: { measure: 'share' }, direction: 'both' }],
    ['measure: share\nthreshold: 30%\ndirection: down', SCHEMA, { options: { measure: 'share' }, direction: 'down' }],
    // A share's change is relative, so it may exceed 100% (a distance may not).
    ['measure: share\nthreshold: 150%', SCHEMA, { options: { measure: 'share' }, threshold: 1.5 }],
    ['measure: share\nthreshold: 30%\nresolve_threshold: 15%\nconfirm_window: 1d', SCHEMA, { resolveThreshold: 0.15, confirmWindowMs: DAY }],
  ])('%s', (line, head, expected) => {
    expect(rule(`${head}\n${line}`)).toMatchObject(expected);
  });

  it('leaves the keys out when they are not written (no confirm window, resolve at half the threshold, robust)', () => {
    const r = rule(COST);
    expect(r).not.toHaveProperty('confirmWindowMs');
    expect(r).not.toHaveProperty('resolveThreshold');
    expect(r.baseline).toEqual({ kind: 'previous', lengthMs: WEEK, offsetMs: 0 });
  });

  it('robust: true is the default, so it is not written into the rule', () => {
    expect(rule(`${COST}\nbaseline: { previous: 7d, robust: true }`).baseline).toEqual({ kind: 'previous', lengthMs: WEEK, offsetMs: 0 });
  });

  it('the keys are part of the rule as loaded: deep-frozen', () => {
    const r = rule(`${COST}\nconfirm_window: 1d\nresolve_threshold: 10%\nbaseline: { previous: 7d, robust: false }`);
    expect(Object.isFrozen(r.baseline)).toBe(true);
    expect(() => {
      (r as { confirmWindowMs: number }).confirmWindowMs = 1;
    }).toThrow(TypeError);
  });
});

describe('rejected, one problem each, at file:line:col', () => {
  it.each([
    ['confirm_window equal to the window', `${COST}\nconfirm_window: 7d`, '8:25: confirm_window: must be shorter than the window (7d), got 7d'],
    ['confirm_window longer than the (default) window', `${COST}\nconfirm_window: 8d`, '8:25: confirm_window: must be shorter than the window (7d), got 8d'],
    ['confirm_window equal to a written window', `${COST}\nwindow: 3d\nconfirm_window: 3d`, '9:25: confirm_window: must be shorter than the window (3d), got 3d'],
    ['confirm_window under 1m', `${COST}\nconfirm_window: 30s`, '8:25: confirm_window: must be at least 1m, got 30s'],
    ['confirm_window without a unit', `${COST}\nconfirm_window: 1`, '8:25: confirm_window: expected a duration, got a number without a unit (use an integer with a unit (ms, s, m, h, d, w, y), largest first, e.g. 30s, 5m, 1h30m, 7d)'],
    [
      'resolve_threshold above the threshold',
      `${COST}\nresolve_threshold: 30%`,
      '8:28: resolve_threshold: must not exceed the threshold (20%), got 30%: a firing series would resolve while its condition still holds',
    ],
    ['resolve_threshold negative', `${COST}\nresolve_threshold: -5%`, '8:28: resolve_threshold: must be 0 or more, got -5%'],
    ['resolve_threshold not a percentage', `${COST}\nresolve_threshold: ten`, '8:28: resolve_threshold: invalid percentage "ten": use e.g. 20%, 12.5% or a fraction like 0.2'],
    ['robust on a seasonal baseline', `${COST}\nbaseline: { seasonal_weeks: 3, robust: false }`, '8:40: baseline.robust: applies only to a previous baseline (a seasonal baseline is already a median of weeks)'],
    ['robust true on a seasonal baseline', `${COST}\nbaseline: { seasonal_weeks: 3, robust: true }`, '8:40: baseline.robust: applies only to a previous baseline (a seasonal baseline is already a median of weeks)'],
    ['robust not a boolean', `${COST}\nbaseline: { previous: 7d, robust: maybe }`, '8:43: baseline.robust: expected true or false, got a string'],
    [
      'direction both on js_distance (the default measure)',
      `${SCHEMA}\nthreshold: 20%\ndirection: both`,
      "8:20: direction: output_schema_shift can only drift up (its effect size is never negative); with measure: share a fingerprint's share can move either way",
    ],
    [
      'direction both on js_distance (written)',
      `${SCHEMA}\nmeasure: js_distance\nthreshold: 20%\ndirection: both`,
      "9:20: direction: output_schema_shift can only drift up (its effect size is never negative); with measure: share a fingerprint's share can move either way",
    ],
    [
      'direction down on unseen_share',
      `${SCHEMA}\nmeasure: unseen_share\nthreshold: 20%\ndirection: down`,
      "9:20: direction: output_schema_shift can only drift up (its effect size is never negative); with measure: share a fingerprint's share can move either way",
    ],
    ['an effect size above 100% (js_distance)', `${SCHEMA}\nthreshold: 120%`, '7:20: threshold: for output_schema_shift the threshold is an effect size between 0 and 1 (e.g. 20%), got 120%'],
    ['an unknown measure', `${SCHEMA}\nthreshold: 20%\nmeasure: shares`, '8:18: measure: must be one of js_distance, unseen_share, share, got "shares"'],
    ['measure on another signal', `${COST}\nmeasure: share`, "8:9: measure: option only for signal output_schema_shift, this rule's signal is cost_per_success"],
  ])('%s', (_name, body, expected) => {
    const { ruleSet, lines } = parse(body);
    expect(lines).toEqual([`r.yaml:${expected}`]);
    expect(ruleSet).toBeNull();
  });

  it('names the file it is in', () => {
    const { lines } = parse(`${COST}\nconfirm_window: 7d`, 'rules/team/cost.yaml');
    expect(lines).toEqual(['rules/team/cost.yaml:8:25: confirm_window: must be shorter than the window (7d), got 7d']);
  });

  it('the unknown-key message lists the new keys', () => {
    expect(parse(`${COST}\nconfirm: 1d`).lines[0]).toMatch(/unknown key "confirm" in rule.*confirm_window/);
    expect(parse(`${COST}\nbaseline: { previous: 7d, robustness: false }`).lines[0]).toMatch(/unknown key "robustness" in baseline.*robust/);
  });
});

describe('the shipped rules/default.yaml', () => {
  it('loads, and every 7-day rule confirms on the last day (the 1-day rules have no confirm window)', async () => {
    const { ruleSet, problems } = await loadRuleFiles(['rules/default.yaml']);
    expect(problems).toEqual([]);
    const rules = ruleSet!.groups.flatMap((g) => g.rules);
    const weekly = rules.filter((r) => r.windowMs === WEEK);
    expect(weekly.length).toBeGreaterThanOrEqual(4);
    for (const r of weekly) expect(r.confirmWindowMs, r.alert).toBe(DAY);
    for (const r of rules.filter((x) => x.windowMs < WEEK)) expect(r.confirmWindowMs, r.alert).toBeUndefined();
    // The weekly rules are robust (a previous baseline of 7 days, not turned off).
    for (const r of weekly) expect(r.baseline, r.alert).toEqual({ kind: 'previous', lengthMs: WEEK, offsetMs: 0 });
  });

  it('has a share rule on output shapes: up 30%, per workflow', async () => {
    const { ruleSet } = await loadRuleFiles(['rules/default.yaml']);
    const share = ruleSet!.groups.flatMap((g) => g.rules).filter((r) => r.signal === 'output_schema_shift' && r.options.measure === 'share');
    expect(share).toHaveLength(1);
    expect(share[0]).toMatchObject({ alert: 'OutputShapeShareUp', threshold: 0.3, direction: 'up', groupBy: ['workflow_id'], windowMs: WEEK, confirmWindowMs: DAY });
    expect(share[0]!.annotations.summary).toContain('$labels.fingerprint');
  });
});
