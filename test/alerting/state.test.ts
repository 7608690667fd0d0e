import { describe, expect, it } from 'vitest';
import {
  ABSENT_REASON,
  applyEvaluation,
  applyQueryError,
  carryOver,
  newAlertStates,
  seriesOf,
  type AlertStates,
  type SeriesChange,
  type SeriesResult,
} from '../../src/alerting/state.js';
import { seriesId, type Evidence, type Outcome } from '../../src/alerting/types.js';

const T: Outcome = { kind: 'ok', active: true };
const F: Outcome = { kind: 'ok', active: false };
const MIN = 60_000;
const m = (n: number): number => n * MIN;
const FOR = m(30);
const ALERT = 'ToolCallsDrift';

const wf = (workflow_id: string): Record<string, string> => ({ workflow_id });
const res = (workflow_id: string, outcome: Outcome, extra: Partial<SeriesResult> = {}): SeriesResult => ({
  labels: wf(workflow_id),
  outcome,
  ...extra,
});
const key = (workflow_id: string): string => seriesId(ALERT, wf(workflow_id));
const stateOf = (states: AlertStates, workflow_id: string): string | undefined => states.get(key(workflow_id))?.record.state;

/** Changes as `group: from->to (reason)`, readable in a failing assertion. */
const summary = (changes: SeriesChange[]): string[] =>
  changes.map((c) => `${c.labels.workflow_id}: ${c.transition.from}->${c.transition.to} (${c.transition.reason})`);

describe('applyEvaluation', () => {
  it('steps a vanished group as no data: its pending timer is dropped, a firing one keeps firing', () => {
    const states = newAlertStates();
    // Another rule's series must never be touched by this rule's evaluations.
    applyEvaluation(states, 'OtherRule', [{ labels: wf('checkout'), outcome: T }], 0, 0);
    const other = states.get(seriesId('OtherRule', wf('checkout')));

    expect(summary(applyEvaluation(states, ALERT, [res('checkout', T), res('refund', F), res('search', F)], m(0), FOR))).toEqual([
      'checkout: inactive->pending (condition true, firing if it holds for 30m)',
    ]);
    expect(summary(applyEvaluation(states, ALERT, [res('checkout', T), res('refund', T), res('search', F)], m(10), FOR))).toEqual([
      'refund: inactive->pending (condition true, firing if it holds for 30m)',
    ]);

    // refund (pending) and search (inactive) vanish from the results.
    const at30 = applyEvaluation(states, ALERT, [res('checkout', T)], m(30), FOR);
    expect(summary(at30)).toEqual([
      'checkout: pending->firing (condition true for 30m)',
      `refund: pending->nodata (${ABSENT_REASON})`,
      `search: inactive->nodata (${ABSENT_REASON})`,
    ]);
    expect(states.get(key('refund'))?.record).toMatchObject({ state: 'nodata', activeAt: null, health: 'nodata', lastEvalAt: m(30) });

    // Had refund's timer been frozen, it would fire here (10m + 30m); instead nothing happens.
    // checkout vanishes too: missing data is no evidence the drift is gone, so it keeps firing.
    expect(applyEvaluation(states, ALERT, [], m(40), FOR)).toEqual([]);
    expect(states.get(key('checkout'))?.record).toMatchObject({ state: 'firing', health: 'nodata', firedAt: m(30), lastEvalAt: m(40) });
    // Absent and already reported as no data: nothing left to remember.
    expect(states.has(key('refund'))).toBe(false);
    expect(states.has(key('search'))).toBe(false);

    // refund comes back: a new episode with a new timer.
    expect(summary(applyEvaluation(states, ALERT, [res('refund', T)], m(50), FOR))).toEqual([
      'refund: inactive->pending (condition true, firing if it holds for 30m)',
    ]);
    expect(states.get(key('refund'))?.record.activeAt).toBe(m(50));
    expect(stateOf(states, 'checkout')).toBe('firing');

    // checkout reappears with the condition false: only now is it resolved.
    expect(summary(applyEvaluation(states, ALERT, [res('checkout', F), res('refund', T)], m(60), FOR))).toEqual([
      'checkout: firing->resolved (condition false)',
    ]);

    expect(states.get(seriesId('OtherRule', wf('checkout')))).toBe(other);
  });

  it('returns key, alert, labels, transition and record of each change, and stores the same record', () => {
    const states = newAlertStates();
    const [c] = applyEvaluation(states, ALERT, [res('checkout', T)], 0, 0);
    expect(c).toEqual({
      key: key('checkout'),
      alert: ALERT,
      labels: wf('checkout'),
      transition: { from: 'inactive', to: 'firing', at: 0, reason: 'condition true' },
      record: states.get(key('checkout'))?.record,
    });
  });

  it('keeps the last annotations and evidence through evaluations that have none', () => {
    const states = newAlertStates();
    const ev = (deviation: number | null): Evidence => ({ current: 1, baseline: 1, deviation, isNew: false, currentRuns: 9, baselineRuns: 9, contributors: [], exampleRunIds: [], pValue: null });
    applyEvaluation(states, ALERT, [res('checkout', T, { evidence: ev(0.42), annotations: { summary: 'up 42%' } })], 0, FOR);
    expect(states.get(key('checkout'))).toMatchObject({ id: key('checkout'), measured: true });
    applyEvaluation(states, ALERT, [res('checkout', { kind: 'error', message: 'down' })], m(1), FOR);
    expect(states.get(key('checkout'))).toMatchObject({ evidence: { deviation: 0.42 }, annotations: { summary: 'up 42%' }, measured: true });
    // No longer listed: stepped to no data, not measured, but what it last showed is kept for notifications.
    applyEvaluation(states, ALERT, [], m(2), FOR);
    expect(states.get(key('checkout'))).toMatchObject({ evidence: { deviation: 0.42 }, measured: false });
    applyEvaluation(states, ALERT, [res('checkout', F, { evidence: ev(null) })], m(3), FOR);
    expect(states.get(key('checkout'))?.evidence?.deviation).toBeNull();
    expect(states.get(key('checkout'))?.measured).toBe(true);
  });

  it('identifies a series by its labels whatever their order', () => {
    const states = newAlertStates();
    applyEvaluation(states, ALERT, [{ labels: { workflow_id: 'a', model: 'x' }, outcome: T }], 0, FOR);
    const changes = applyEvaluation(states, ALERT, [{ labels: { model: 'x', workflow_id: 'a' }, outcome: T }], FOR, FOR);
    expect(changes.map((c) => c.transition.to)).toEqual(['firing']);
    expect(states.size).toBe(1);
  });

  it('refuses a result that names one series twice, before changing anything', () => {
    const states = newAlertStates();
    applyEvaluation(states, ALERT, [res('checkout', T)], 0, FOR);
    const before = new Map(states);
    expect(() => applyEvaluation(states, ALERT, [res('refund', T), res('checkout', F), res('checkout', T)], m(1), FOR)).toThrow(
      /reported the series .*checkout.* more than once/,
    );
    expect(new Map(states)).toEqual(before);
  });
});

describe('applyQueryError', () => {
  it('gives every known series of the rule the error outcome: nothing resolves, timers are kept', () => {
    const states = newAlertStates();
    applyEvaluation(states, ALERT, [res('checkout', T), res('refund', F)], 0, FOR);
    applyEvaluation(states, ALERT, [res('checkout', T), res('refund', F), res('search', F)], FOR, FOR);
    applyEvaluation(states, ALERT, [res('checkout', T), res('refund', T), res('search', F)], m(40), FOR);
    applyEvaluation(states, 'OtherRule', [{ labels: {}, outcome: F }], m(40), FOR);

    const changes = applyQueryError(states, ALERT, 'ClickHouse at http://ch:8123 is unreachable', m(50), FOR);
    expect(summary(changes)).toEqual(['search: inactive->error (query failed: ClickHouse at http://ch:8123 is unreachable)']);
    expect(states.get(key('checkout'))?.record).toMatchObject({ state: 'firing', health: 'error', lastError: 'ClickHouse at http://ch:8123 is unreachable' });
    expect(states.get(key('refund'))?.record).toMatchObject({ state: 'pending', activeAt: m(40), health: 'error' });
    expect(states.get(seriesId('OtherRule', {}))?.record.health).toBe('ok');

    // The pending timer survived the outage: refund fires at 40m + 30m.
    expect(summary(applyEvaluation(states, ALERT, [res('checkout', T), res('refund', T), res('search', F)], m(70), FOR))).toEqual([
      'refund: pending->firing (condition true for 30m)',
      'search: error->inactive (condition false)',
    ]);
  });

  it('invents no series for a rule never evaluated successfully', () => {
    const states = newAlertStates();
    expect(applyQueryError(states, ALERT, 'boom', 0, FOR)).toEqual([]);
    expect(states.size).toBe(0);
  });
});

describe('carryOver', () => {
  it('keeps the state of rules that still exist and drops the rest', () => {
    const states = newAlertStates();
    applyEvaluation(states, ALERT, [res('checkout', T), res('refund', T)], 0, 0);
    applyEvaluation(states, 'Removed', [res('checkout', T)], 0, 0);
    const kept = states.get(key('checkout'));

    const dropped = carryOver(states, new Set([ALERT, 'NewRule']));
    expect(dropped).toEqual([seriesId('Removed', wf('checkout'))]);
    expect([...states.keys()].sort()).toEqual([key('checkout'), key('refund')].sort());
    // Same object: a reload neither re-fires nor restarts anything.
    expect(states.get(key('checkout'))).toBe(kept);
    expect(seriesOf(states, ALERT)).toHaveLength(2);
    expect(seriesOf(states, 'Removed')).toHaveLength(0);
  });
});
