import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { ManualClock } from '../../src/util/clock.js';
import { validateNotifyConfig } from '../../src/notify/config.js';
import { Dispatcher, type DispatcherOptions } from '../../src/notify/dispatcher.js';
import type { RouteNode } from '../../src/notify/route.js';
import { sampleAlert } from '../../src/notify/testReceivers.js';
import type { AlertNotification, FailureReason, Integration, Notifier, NotifyResult } from '../../src/notify/types.js';
import { RecordingRecorder } from '../helpers/notify.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;

function alert(fingerprint: string, labels: Record<string, string> = {}, status: 'firing' | 'resolved' = 'firing', startsAt = '2026-01-01T00:00:00.000Z'): AlertNotification {
  const base = sampleAlert(0);
  return {
    ...base,
    fingerprint,
    status,
    labels: { alertname: 'ToolCallsPerRunUp', severity: 'warning', ...labels },
    annotations: { summary: `alert ${fingerprint}` },
    startsAt,
    endsAt: status === 'resolved' ? '2026-01-01T06:00:00.000Z' : null,
  };
}

const resolved = (a: AlertNotification): AlertNotification => ({ ...a, status: 'resolved', endsAt: '2026-01-01T06:00:00.000Z' });

const fail = (reason: FailureReason, recoverable: boolean, retryAfterMs?: number): NotifyResult => ({
  ok: false,
  recoverable,
  reason,
  error: new Error(`scripted ${reason}`),
  ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
});

/** Records what it was asked to send and when; answers from a script, then ok. */
class FakeNotifier implements Notifier {
  readonly calls: { at: number; alerts: string[] }[] = [];
  closed = 0;
  constructor(
    readonly name: string,
    private readonly clock: ManualClock,
    readonly integration: Integration = 'slack',
    private readonly script: (NotifyResult | 'throw')[] = [],
    readonly resendIntervalMs?: number,
  ) {}

  async notify(alerts: readonly AlertNotification[]): Promise<NotifyResult> {
    this.calls.push({ at: this.clock.now(), alerts: alerts.map((a) => `${a.fingerprint}:${a.status}`) });
    const next = this.script.shift() ?? { ok: true };
    if (next === 'throw') throw new Error('https://secret.example.com/token-in-a-thrown-message');
    return next;
  }

  close(): void {
    this.closed++;
  }

  /** Send times relative to `t0`, with what was sent. */
  sent(t0: number): [number, string[]][] {
    return this.calls.map((c) => [c.at - t0, c.alerts]);
  }
}

const RECEIVERS = `receivers:
  - { name: slack, slack: { webhook_url: "https://hooks.slack.com/x" } }
  - { name: email, email: { to: a@example.com, from: b@example.com, smarthost: "smtp:25" } }
  - { name: am, alertmanager: { url: "http://am:9093" } }
`;

function routeFrom(route: string): RouteNode {
  const yaml = `${RECEIVERS}route:\n${route.replace(/^/gm, '  ')}\n`;
  const loaded = parseConfigText(yaml, 'c.yaml', {});
  expect(loaded.problems).toEqual([]);
  const r = validateNotifyConfig(loaded.config!.receivers, loaded.config!.route, loaded.source, 'c.yaml');
  expect(r.problems).toEqual([]);
  return r.config!.route;
}

const STANDARD = routeFrom(`receivers: [slack]
group_wait: 30s
repeat_interval: 4h
routes:
  - matchers: ['severity = critical']
    receivers: [email, slack]
  - matchers: ['team = data']
    receivers: [am]
  - matchers: ['quiet = "true"']
    receivers: [slack]
    send_resolved: false`);

interface Rig {
  clock: ManualClock;
  t0: number;
  slack: FakeNotifier;
  email: FakeNotifier;
  am: FakeNotifier;
  recorder: RecordingRecorder;
  d: Dispatcher;
}

function rig(opts: { slack?: (NotifyResult | 'throw')[]; email?: (NotifyResult | 'throw')[]; route?: RouteNode; clock?: ManualClock; extra?: Partial<DispatcherOptions> } = {}): Rig {
  const clock = opts.clock ?? new ManualClock();
  const slack = new FakeNotifier('slack', clock, 'slack', opts.slack);
  const email = new FakeNotifier('email', clock, 'email', opts.email);
  const am = new FakeNotifier('am', clock, 'alertmanager', [], M);
  const recorder = new RecordingRecorder();
  // random() = 0.5 puts the jitter factor at exactly 1: backoff delays are 1s, 2s, 4s...
  const d = new Dispatcher({ route: opts.route ?? STANDARD, notifiers: [slack, email, am], recorder, clock, random: () => 0.5, ...opts.extra });
  return { clock, t0: clock.now(), slack, email, am, recorder, d };
}

describe('Dispatcher: routing and group_wait', () => {
  it('critical -> email + slack; everything else -> slack; one batch per receiver after group_wait', async () => {
    const { clock, t0, slack, email, am, d } = rig();
    d.enqueue(alert('crit', { severity: 'critical' }));
    d.enqueue(alert('warn'));
    await clock.advance(29 * S);
    expect(slack.calls).toEqual([]);
    await clock.advance(1 * S);
    expect(slack.sent(t0)).toEqual([[30 * S, ['crit:firing', 'warn:firing']]]);
    expect(email.sent(t0)).toEqual([[30 * S, ['crit:firing']]]);
    expect(am.calls).toEqual([]);
  });

  it('the first alert opens the batch; later ones join it until it leaves; then a new batch waits again', async () => {
    const { clock, t0, slack, d } = rig();
    d.enqueue(alert('a'));
    await clock.advance(10 * S);
    d.enqueue(alert('b'));
    await clock.advance(20 * S); // t = 30s: the batch leaves with a and b
    await clock.advance(10 * S);
    d.enqueue(alert('c')); // t = 40s: a new batch, due at 70s
    await clock.advance(29 * S);
    expect(slack.calls).toHaveLength(1);
    await clock.advance(1 * S);
    expect(slack.sent(t0)).toEqual([
      [30 * S, ['a:firing', 'b:firing']],
      [70 * S, ['c:firing']],
    ]);
  });

  it('group_wait 0 sends on the next tick, never from inside enqueue()', async () => {
    const { clock, slack, d } = rig({ route: routeFrom('receivers: [slack]\ngroup_wait: 0s') });
    d.enqueue(alert('a'));
    expect(slack.calls).toEqual([]);
    await clock.tick();
    expect(slack.calls).toHaveLength(1);
  });
});

describe('Dispatcher: dedup', () => {
  it('one transition is delivered once per receiver, however often it is enqueued', async () => {
    const { clock, slack, email, recorder, d } = rig();
    const a = alert('a', { severity: 'critical' });
    d.enqueue(a);
    d.enqueue(a);
    await clock.advance(30 * S);
    d.enqueue(a);
    d.enqueue({ ...a, annotations: { summary: 'same transition, newer text' } });
    await clock.advance(1 * H);
    d.enqueue(resolved(a));
    d.enqueue(resolved(a));
    await clock.advance(1 * H);
    d.enqueue(resolved(a));
    await clock.advance(1 * H);
    expect(slack.calls.map((c) => c.alerts)).toEqual([['a:firing'], ['a:resolved']]);
    expect(email.calls.map((c) => c.alerts)).toEqual([['a:firing'], ['a:resolved']]);
    expect(recorder.events.filter((e) => e.startsWith('sent'))).toHaveLength(4);
  });

  it('a new episode of the same series (new startsAt) is a new transition', async () => {
    const { clock, slack, d } = rig();
    d.enqueue(alert('a'));
    await clock.advance(30 * S);
    d.enqueue(resolved(alert('a')));
    await clock.advance(30 * S);
    d.enqueue(alert('a', {}, 'firing', '2026-01-02T00:00:00.000Z'));
    await clock.advance(30 * S);
    expect(slack.calls.map((c) => c.alerts)).toEqual([['a:firing'], ['a:resolved'], ['a:firing']]);
  });

  it('an alert that fires and resolves within group_wait is not sent at all', async () => {
    const { clock, slack, d } = rig();
    d.enqueue(alert('a'));
    d.enqueue(alert('b'));
    await clock.advance(10 * S);
    d.enqueue(resolved(alert('a')));
    await clock.advance(1 * M);
    expect(slack.calls.map((c) => c.alerts)).toEqual([['b:firing']]);
  });

  it('a resolution is not sent to a receiver that never heard the alert fire', async () => {
    const { clock, slack, d } = rig();
    d.enqueue(resolved(alert('never-notified')));
    await clock.advance(1 * M);
    expect(slack.calls).toEqual([]);
  });
});

describe('Dispatcher: send_resolved and repeat_interval', () => {
  it('send_resolved: false keeps resolutions from that route', async () => {
    const { clock, slack, d } = rig();
    const quiet = alert('q', { quiet: 'true' });
    const loud = alert('l');
    d.enqueue(quiet);
    d.enqueue(loud);
    await clock.advance(30 * S);
    d.enqueue(resolved(quiet));
    d.enqueue(resolved(loud));
    await clock.advance(30 * S);
    expect(slack.calls.map((c) => c.alerts)).toEqual([['q:firing', 'l:firing'], ['l:resolved']]);
  });

  it('a still-firing alert is re-sent after repeat_interval, counted from the last send', async () => {
    const { clock, t0, slack, d } = rig();
    const a = alert('a');
    d.enqueue(a);
    await clock.advance(30 * S); // sent at 30s
    // The daemon calls refreshFiring after every evaluation, here every 5 minutes.
    for (let t = 5 * M; t <= 9 * H; t += 5 * M) {
      await clock.advance(t - (clock.now() - t0));
      d.refreshFiring([a], clock.now());
    }
    await clock.tick();
    // 30s + 4h falls between evaluations: the re-send goes at the first evaluation after it.
    expect(slack.sent(t0)).toEqual([
      [30 * S, ['a:firing']],
      [4 * H + 5 * M, ['a:firing']],
      [8 * H + 5 * M, ['a:firing']],
    ]);
  });

  it('Alertmanager receivers get a re-send every resend_interval so the alert does not expire there', async () => {
    const { clock, t0, am, slack, d } = rig();
    const a = alert('a', { team: 'data' });
    d.enqueue(a);
    await clock.advance(30 * S);
    for (let i = 1; i <= 3; i++) {
      await clock.advance(M);
      d.refreshFiring([a]);
      await clock.tick();
    }
    expect(am.sent(t0).map(([t]) => t)).toEqual([30 * S, 90 * S, 150 * S, 210 * S]);
    expect(slack.calls).toEqual([]);
  });

  it('refreshFiring sends an alert that a receiver never heard of (e.g. a receiver added later)', async () => {
    const { clock, slack, d } = rig();
    d.refreshFiring([alert('a')]);
    await clock.advance(30 * S);
    d.refreshFiring([alert('a')]);
    await clock.advance(30 * S);
    expect(slack.calls.map((c) => c.alerts)).toEqual([['a:firing']]);
  });

  it('a repeat carries the latest numbers', async () => {
    const { clock, slack, d } = rig();
    d.enqueue(alert('a'));
    await clock.advance(30 * S);
    const seen: string[] = [];
    const orig = slack.notify.bind(slack);
    slack.notify = async (alerts) => {
      seen.push(...alerts.map((x) => x.annotations.summary ?? ''));
      return orig(alerts);
    };
    await clock.advance(4 * H);
    d.refreshFiring([{ ...alert('a'), annotations: { summary: 'fresh' } }]);
    await clock.tick();
    expect(seen).toEqual(['fresh']);
  });
});

describe('Dispatcher: retry', () => {
  it('a recoverable failure is retried with backoff and delivered exactly once', async () => {
    const { clock, t0, slack, recorder, d } = rig({ slack: [fail('server_error', true), fail('connection', true)] });
    d.enqueue(alert('a'));
    await clock.advance(2 * M);
    expect(slack.sent(t0)).toEqual([
      [30 * S, ['a:firing']],
      [31 * S, ['a:firing']], // +1s
      [33 * S, ['a:firing']], // +2s
    ]);
    expect(recorder.events).toEqual(['retry slack/slack', 'retry slack/slack', 'sent slack/slack']);
    // Every failed attempt is counted, though none was given up on.
    expect(recorder.attemptFailures).toEqual(['slack/slack server_error', 'slack/slack connection']);
    expect(recorder.lastPending).toBe(0);
  });

  it('backoff doubles up to 1m, and the delivery is given up after 1h and counted as failed once', async () => {
    const always = Array.from({ length: 200 }, () => fail('server_error', true));
    const { clock, t0, slack, recorder, d } = rig({ slack: always });
    d.enqueue(alert('a'));
    await clock.advance(2 * H);
    const gaps = slack.calls.slice(1).map((c, i) => (c.at - slack.calls[i]!.at) / S);
    expect(gaps.slice(0, 8)).toEqual([1, 2, 4, 8, 16, 32, 60, 60]);
    const last = slack.calls.at(-1)!.at - t0;
    expect(last).toBeLessThanOrEqual(30 * S + H);
    expect(last).toBeGreaterThan(30 * S + H - 2 * M);
    expect(recorder.events.filter((e) => e.startsWith('failed'))).toEqual(['failed slack/slack server_error']);
    expect(recorder.attemptFailures).toHaveLength(slack.calls.length);
    expect(recorder.lastPending).toBe(0);
  });

  it('jitter spreads retries around the nominal delay', async () => {
    const clock = new ManualClock();
    const n = new FakeNotifier('slack', clock, 'slack', [fail('server_error', true), fail('server_error', true)]);
    let r = 0;
    const randoms = [0, 1];
    const d = new Dispatcher({ route: routeFrom('receivers: [slack]\ngroup_wait: 0s'), notifiers: [n], clock, random: () => randoms[r++]! });
    d.enqueue(alert('a'));
    await clock.advance(M);
    const gaps = n.calls.slice(1).map((c, i) => c.at - n.calls[i]!.at);
    expect(gaps).toEqual([900, 2200]); // 1s × 0.9, 2s × 1.1
  });

  it('Retry-After is honoured when it is longer than the backoff', async () => {
    const { clock, t0, slack, d } = rig({ slack: [fail('rate_limited', true, 7 * S)] });
    d.enqueue(alert('a'));
    await clock.advance(M);
    expect(slack.sent(t0).map(([t]) => t)).toEqual([30 * S, 37 * S]);
  });

  it('a non-recoverable failure is not retried, is counted as failed, and waits for the next repeat', async () => {
    const { clock, t0, slack, recorder, d } = rig({ slack: [fail('client_error', false)] });
    const a = alert('a');
    d.enqueue(a);
    await clock.advance(M);
    d.enqueue(a); // the same transition again: already handled
    d.refreshFiring([a]);
    await clock.advance(M);
    expect(slack.calls).toHaveLength(1);
    expect(recorder.events).toEqual(['failed slack/slack client_error']);
    expect(recorder.attemptFailures).toEqual(['slack/slack client_error']);
    await clock.advance(4 * H);
    d.refreshFiring([a]);
    await clock.tick();
    expect(slack.sent(t0).map(([t]) => t)).toEqual([30 * S, 4 * H + 2 * M]);
  });

  it('a notifier that throws is a failure, not a crash; its message is not logged', async () => {
    const { clock, recorder, d } = rig({ slack: ['throw'] });
    d.enqueue(alert('a'));
    await clock.advance(M);
    expect(recorder.events).toEqual(['failed slack/slack other']);
  });

  it('a resolution waits behind its retrying firing message: order is kept per receiver', async () => {
    const { clock, slack, email, d } = rig({ slack: [fail('server_error', true), fail('server_error', true)] });
    const a = alert('a', { severity: 'critical' });
    d.enqueue(a);
    await clock.advance(30 * S); // slack fails once, retry in 1s
    d.enqueue(resolved(a));
    await clock.advance(2 * M);
    expect(slack.calls.map((c) => c.alerts)).toEqual([['a:firing'], ['a:firing'], ['a:firing'], ['a:resolved']]);
    // A failing receiver holds only its own lane.
    expect(email.calls.map((c) => c.alerts)).toEqual([['a:firing'], ['a:resolved']]);
  });
});

describe('Dispatcher: persistence', () => {
  it('snapshot/restore across a restart keeps a retrying delivery and does not re-send a delivered one', async () => {
    const first = rig({ email: Array.from({ length: 10 }, () => fail('connection', true)) });
    const a = alert('a', { severity: 'critical' });
    const b = alert('b');
    first.d.enqueue(a);
    await first.clock.advance(30 * S); // slack: a delivered; email: a retrying
    first.d.enqueue(b); // slack: b waiting in group_wait
    await first.clock.advance(5 * S);
    expect(first.slack.calls.map((c) => c.alerts)).toEqual([['a:firing']]);
    expect(first.email.calls.length).toBeGreaterThan(1);
    // The state file is JSON.
    const state = JSON.parse(JSON.stringify(first.d.snapshot())) as unknown[];
    await first.d.close();

    const clock = new ManualClock(first.clock.now() + 10 * S);
    const second = rig({ clock });
    second.d.restore(state);
    // The daemon's first evaluation after the restart still sees a and b firing.
    second.d.refreshFiring([a, b]);
    second.d.enqueue(a); // and may replay the transition: it is deduplicated
    await clock.advance(2 * M);
    expect(second.email.calls.map((c) => c.alerts)).toEqual([['a:firing']]);
    expect(second.slack.calls.map((c) => c.alerts)).toEqual([['b:firing']]);
    // The dedup log came back too: the resolution goes to both receivers, which heard it fire.
    second.d.enqueue(resolved(a));
    await clock.advance(M);
    expect(second.slack.calls.map((c) => c.alerts).at(-1)).toEqual(['a:resolved']);
    expect(second.email.calls.map((c) => c.alerts).at(-1)).toEqual(['a:resolved']);
  });

  it('repeat_interval counts from the send before the restart', async () => {
    const first = rig();
    const a = alert('a');
    first.d.enqueue(a);
    await first.clock.advance(30 * S);
    const state = first.d.snapshot();
    const clock = new ManualClock(first.clock.now() + 3 * H);
    const second = rig({ clock });
    second.d.restore(state);
    second.d.refreshFiring([a]);
    await clock.advance(M);
    expect(second.slack.calls).toEqual([]);
    await clock.advance(H);
    second.d.refreshFiring([a]);
    await clock.tick();
    expect(second.slack.calls).toHaveLength(1);
  });

  it('the snapshot is plain JSON with the batch, its phase and attempts, and the dedup log', async () => {
    const { clock, d } = rig({ slack: [fail('server_error', true)] });
    d.enqueue(alert('a'));
    await clock.advance(30 * S);
    const snap = d.snapshot();
    expect(snap).toEqual([
      expect.objectContaining({ v: 1, type: 'delivery', receiver: 'slack', phase: 'retrying', attempts: 1, lastReason: 'server_error', alerts: [expect.objectContaining({ fingerprint: 'a' })] }),
    ]);
    await clock.advance(S);
    expect(d.snapshot()).toEqual([expect.objectContaining({ v: 1, type: 'notified', receiver: 'slack', fingerprint: 'a', status: 'firing', outcome: 'sent' })]);
  });

  it('restore drops entries for receivers no longer configured and unreadable entries', async () => {
    const { clock, slack, d } = rig();
    const good = { v: 1, type: 'delivery', receiver: 'slack', phase: 'queued', dueAt: 0, attempts: 0, firstAttemptAt: null, lastReason: null, alerts: [alert('x')] };
    d.restore([
      good,
      { ...good, receiver: 'gone' },
      { ...good, alerts: [{ fingerprint: 'broken' }] },
      { v: 2, type: 'delivery' },
      'garbage',
      null,
    ]);
    await clock.tick();
    expect(slack.calls.map((c) => c.alerts)).toEqual([['x:firing']]);
  });

  it('restore takes anything: a state that is not a list restores nothing, and does not throw', async () => {
    const { clock, slack, recorder, d } = rig();
    d.restore({ deliveries: [] });
    d.restore(null);
    await clock.advance(M);
    expect(slack.calls).toEqual([]);
    expect(recorder.lastPending).toBe(0);
  });

  it('a batch waiting in group_wait at shutdown is sent when its wait ends after the restart', async () => {
    const first = rig();
    first.d.enqueue(alert('a'));
    await first.clock.advance(10 * S);
    const state = first.d.snapshot();
    const clock = new ManualClock(first.clock.now());
    const second = rig({ clock });
    second.d.restore(state);
    await clock.advance(19 * S);
    expect(second.slack.calls).toEqual([]);
    await clock.advance(S);
    expect(second.slack.calls).toHaveLength(1);
  });
});

describe('Dispatcher: shutdown and metrics', () => {
  it('flush() sends what waits in group_wait now; what still fails stays in the snapshot', async () => {
    const { clock, slack, email, d } = rig({ email: [fail('server_error', true)] });
    d.enqueue(alert('a', { severity: 'critical' }));
    const flushed = d.flush(5 * S);
    await clock.tick();
    expect(await flushed).toBe(1);
    expect(slack.calls).toHaveLength(1);
    expect(email.calls).toHaveLength(1);
    expect(d.snapshot()).toContainEqual(expect.objectContaining({ type: 'delivery', receiver: 'email', phase: 'retrying' }));
  });

  it('flush() gives up waiting after its timeout', async () => {
    const clock = new ManualClock();
    const hang: Notifier = { name: 'slack', integration: 'slack', notify: (_a, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(fail('other', true)))) };
    const d = new Dispatcher({ route: routeFrom('receivers: [slack]'), notifiers: [hang], clock });
    d.enqueue(alert('a'));
    const flushed = d.flush(3 * S);
    await clock.advance(3 * S);
    expect(await flushed).toBe(1);
    await d.close();
    // The aborted send is kept, to be sent again after a restart.
    expect(d.snapshot()).toContainEqual(expect.objectContaining({ type: 'delivery', phase: 'retrying', attempts: 1 }));
  });

  it('close() is idempotent, closes every notifier once, and later enqueues still reach the snapshot', async () => {
    const { clock, slack, email, am, d } = rig();
    await Promise.all([d.close(), d.close()]);
    await d.close();
    expect([slack.closed, email.closed, am.closed]).toEqual([1, 1, 1]);
    d.enqueue(alert('late'));
    await clock.advance(M);
    expect(slack.calls).toEqual([]);
    expect(d.snapshot()).toContainEqual(expect.objectContaining({ type: 'delivery', receiver: 'slack', alerts: [expect.objectContaining({ fingerprint: 'late' })] }));
  });

  it('every receiver is initialised in the recorder before anything is sent; pending is reported', async () => {
    const { clock, recorder, d } = rig();
    expect(recorder.inits).toEqual(['slack/slack', 'email/email', 'am/alertmanager']);
    expect(recorder.lastPending).toBe(0);
    d.enqueue(alert('a', { severity: 'critical' }));
    expect(recorder.lastPending).toBe(2);
    await clock.advance(30 * S);
    expect(recorder.lastPending).toBe(0);
  });
});
