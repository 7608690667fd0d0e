import { describe, expect, it } from 'vitest';
import { EvaluationTimeoutError, abortReason, nextStart, rotated } from '../../src/engine/skips.js';
import { DriftMetrics } from '../../src/metrics/registry.js';
import type { RuleSet } from '../../src/rules/types.js';

const rules = ['a', 'b', 'c', 'd'].map((alert) => ({ alert }));

describe('rule rotation within a group', () => {
  it('starts where the last evaluation stopped, wraps around, and keeps its place when a run completes', () => {
    expect(rotated(rules, 0).map((r) => r.alert)).toEqual(['a', 'b', 'c', 'd']);
    expect(rotated(rules, 2).map((r) => r.alert)).toEqual(['c', 'd', 'a', 'b']);
    expect(rotated(rules, 6).map((r) => r.alert)).toEqual(['c', 'd', 'a', 'b']);
    expect(nextStart(rules, 0, 3)).toBe(3); // cut after 3 of 4: d first next time
    expect(nextStart(rules, 3, 2)).toBe(1); // d, a done: b next
    expect(nextStart(rules, 2, 4)).toBe(2); // completed: same order
    expect(nextStart([], 5, 0)).toBe(0);
  });

  it('tells a timeout from a shutdown by the abort reason', () => {
    const t = new AbortController();
    t.abort(new EvaluationTimeoutError(1000));
    expect(abortReason(t.signal)).toBe('timeout');
    const s = new AbortController();
    s.abort(new Error('shutting down'));
    expect(abortReason(s.signal)).toBe('shutdown');
  });
});

describe('agentdrift_rule_evaluations_skipped_total', () => {
  const set = (alerts: string[]): RuleSet =>
    ({ groups: [{ name: 'g', schedule: { kind: 'interval', everyMs: 60_000 }, timeoutMs: 60_000, file: 'x', rules: alerts.map((alert) => ({ alert })) }] }) as unknown as RuleSet;

  it('counts per rule and reason, bounds label values, and drops the counters of removed rules', async () => {
    const m = new DriftMetrics({ defaultMetrics: false });
    const long = `R${'x'.repeat(300)}`;
    m.recordRuleSet(set(['a', long]));
    m.recordRulesSkipped('g', [{ rule: 'a', reason: 'timeout' }, { rule: long, reason: 'timeout' }]);
    m.recordSkipped('g', ['a', long]);
    let text = await m.registry.metrics();
    expect(text).toContain('agentdrift_rule_evaluations_skipped_total{group="g",rule="a",reason="timeout"} 1');
    expect(text).toContain('agentdrift_rule_evaluations_skipped_total{group="g",rule="a",reason="overlap"} 1');
    expect(text).not.toContain('x'.repeat(200));
    m.recordRuleSet(set(['a']));
    text = await m.registry.metrics();
    expect(text).not.toMatch(/skipped_total\{group="g",rule="Rx/);
    expect(text).toContain('rule="a",reason="overlap"');
  });
});
