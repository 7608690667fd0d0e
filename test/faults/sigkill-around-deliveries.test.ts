/**
 * Fault: the daemon is killed with SIGKILL at points around its deliveries, then started again on the
 * same state file. The real CLI daemon, on the pinned demo (the README table of firing alerts), sends to a real
 * webhook receiver on 127.0.0.1 that counts what each alert was sent. What must hold every time: no
 * alert is lost, and an alert is sent twice only if it was in the one request in flight at the kill.
 *
 * The demo store is seeded once; each case runs on its own copy of it, with its own state file.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { metricsUrlOf, runCli, scrapeValue, startCli, waitForEvaluations, type LiveProcess } from '../helpers/cli.js';
import { alertId, DEMO_END_ISO, pinnedRestart, readmeDemoAlerts } from '../helpers/demo.js';
import { startHttpReceiver, type HttpReceiver, type RecordedRequest, type ScriptedResponse } from '../helpers/httpReceiver.js';

/** The one group the test's rule copy runs (see setUp). */
const GROUPS = ['agentdrift-default'];
let seeded: string;
const running: LiveProcess[] = [];
const receivers: HttpReceiver[] = [];

beforeAll(() => {
  seeded = mkdtempSync(join(tmpdir(), 'agentdrift-faults-seed-'));
  writeFileSync(join(seeded, 'agentdrift.yaml'), 'listen: 127.0.0.1:0\n');
  const r = runCli(['demo', 'seed', '--end', DEMO_END_ISO], seeded);
  expect(r.code, r.stderr).toBe(0);
}, 180_000);

afterEach(async () => {
  for (const p of running.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  for (const r of receivers.splice(0)) await r.close();
});

type HookBody = { alerts: { status: string; labels: Record<string, string> }[] };

/** `alert/workflow_id[/tool] status`, per alert of each webhook request. */
const alertsOf = (r: RecordedRequest): string[] =>
  (r.body as HookBody).alerts.map((a) => `${alertId({ alert: a.labels.alertname!, workflowId: a.labels.workflow_id!, key: a.labels.tool ?? '' })} ${a.status}`);

function counts(reqs: readonly RecordedRequest[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of reqs) for (const a of alertsOf(r)) m.set(a, (m.get(a) ?? 0) + 1);
  return m;
}

/** The alerts the pinned demo fires, as the receiver sees them. */
const EXPECTED = [...new Set(readmeDemoAlerts().map((a) => `${alertId(a)} firing`))].sort();

/** A working directory with a copy of the seeded store, the default rules and a webhook receiver. */
async function setUp(script: readonly ScriptedResponse[], hooks: { onRequest?: (r: RecordedRequest, n: number) => void; onAnswered?: (r: RecordedRequest, n: number) => void } = {}, groupWait = '0s') {
  const cwd = mkdtempSync(join(tmpdir(), 'agentdrift-faults-'));
  cpSync(join(seeded, 'data'), join(cwd, 'data'), { recursive: true });
  cpSync(resolve(__dirname, '../../rules'), join(cwd, 'rules'), { recursive: true });
  // One evaluation, hence one save, at start: the shipped rules run as one hourly group. With the
  // shipped two groups, the first group's hand-over offers the whole firing set, which already holds
  // the series the other group has just turned firing; so every alert can leave after the first save
  // and the other group's save (moments later) holds them all, and "killed before the next save"
  // would not be what the test kills. The shipped 5-minute interval would also bring the second run
  // within 5 minutes of the start (the next whole 5 minutes on the pinned clock).
  const rulesFile = join(cwd, 'rules', 'default.yaml');
  const shipped = readFileSync(rulesFile, 'utf8');
  const merged = shipped.replace(/^ {2}- name: agentdrift-fast\n {4}interval: \S+\n {4}rules:\n/m, '').replace(/^(\s+interval:) \S+$/gm, '$1 1h');
  expect(merged.match(/^ {2}- name: /gm)).toEqual(['  - name: ']);
  expect(merged.match(/^\s+interval: 1h$/gm)).toHaveLength(1);
  writeFileSync(rulesFile, merged);
  const hook = await startHttpReceiver(script, { fallback: 200, ...hooks });
  receivers.push(hook);
  writeFileSync(
    join(cwd, 'agentdrift.yaml'),
    `listen: 127.0.0.1:0
state_file: ./state/agentdrift-state.json
receivers:
  - name: hook
    webhook: { url: "${hook.url}/hook" }
route:
  receivers: [hook]
  group_wait: ${groupWait}
`,
  );
  return { cwd, hook, state: join(cwd, 'state', 'agentdrift-state.json') };
}

function start(cwd: string, args: string[]): LiveProcess {
  const p = startCli(args, cwd);
  running.push(p);
  return p;
}

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts the daemon again 10 minutes (daemon clock) later, lets it evaluate every group and send
 * what it owes, and stops it cleanly (which flushes): after that the receiver has all it will get.
 */
async function restartAndSettle(cwd: string): Promise<LiveProcess> {
  const p = start(cwd, pinnedRestart(10));
  const metrics = await metricsUrlOf(p);
  for (const g of GROUPS) await waitForEvaluations(metrics, g, 1, 60_000);
  const end = Date.now() + 20_000;
  while ((await scrapeValue(metrics, 'agentdrift_notifications_pending')) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(0);
  return p;
}

/** Kills the daemon now. */
async function killed(p: LiveProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await p.exited;
  expect(p.child.signalCode).toBe('SIGKILL');
}

/** Waits (bounded) for the receiver to kill the daemon. */
async function killedByReceiver(p: LiveProcess): Promise<void> {
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 90_000).unref());
  expect(await Promise.race([p.exited.then(() => 'exited' as const), timeout])).toBe('exited');
  expect(p.child.signalCode, p.lines.slice(-10).join('\n')).toBe('SIGKILL');
}

describe('SIGKILL around deliveries: no alert lost, at most the request in flight repeated', () => {
  it('SIGKILL after every delivery was accepted (before the next save of the state file): the restart sends nothing again', async () => {
    const { cwd, hook, state } = await setUp([]);
    const p = start(cwd, ['start', '--now', DEMO_END_ISO]);
    const metrics = await metricsUrlOf(p);
    await until(() => counts(hook.requests).size >= EXPECTED.length, 90_000, 'all ten alerts at the receiver');
    // Every answer processed by the daemon (its own counter), so each acceptance is journaled.
    const sample = 'agentdrift_notifications_total{receiver="hook",integration="webhook"}';
    const end = Date.now() + 10_000;
    while ((await scrapeValue(metrics, sample)) < hook.requests.length && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(await scrapeValue(metrics, sample)).toBe(hook.requests.length);
    // The deliveries are in the journal only: the state file was last written before they were sent.
    expect(readFileSync(`${state}.journal`, 'utf8')).toContain('"outcome":"sent"');
    await killed(p);
    const before = hook.requests.length;

    await restartAndSettle(cwd);
    expect(hook.requests.length).toBe(before);
    expect([...counts(hook.requests).keys()].sort()).toEqual(EXPECTED);
    for (const [a, n] of counts(hook.requests)) expect(n, a).toBe(1);
  }, 240_000);

  it('SIGKILL right after the receiver answered the first request: nothing lost, only that request may come again', async () => {
    let child: LiveProcess | null = null;
    const { cwd, hook } = await setUp([], { onAnswered: (_r, n) => (n === 1 ? child?.child.kill('SIGKILL') : undefined) });
    child = start(cwd, ['start', '--now', DEMO_END_ISO]);
    await killedByReceiver(child);
    expect(hook.requests.length).toBeGreaterThanOrEqual(1);
    const first = new Set(alertsOf(hook.requests[0]!));

    await restartAndSettle(cwd);
    const c = counts(hook.requests);
    expect([...c.keys()].sort()).toEqual(EXPECTED);
    for (const [a, n] of c) {
      if (first.has(a)) expect(n, a).toBeLessThanOrEqual(2);
      else expect(n, a).toBe(1);
    }
  }, 240_000);

  it('SIGKILL while the receiver holds a request open: that request is sent again once, nothing else twice', async () => {
    let child: LiveProcess | null = null;
    const { cwd, hook } = await setUp([{ status: 200, hold: true }], { onRequest: (_r, n) => (n === 1 ? setTimeout(() => child?.child.kill('SIGKILL'), 300) : undefined) });
    child = start(cwd, ['start', '--now', DEMO_END_ISO]);
    await killedByReceiver(child);
    expect(hook.requests).toHaveLength(1);
    const inFlight = new Set(alertsOf(hook.requests[0]!));

    await restartAndSettle(cwd);
    const c = counts(hook.requests);
    expect([...c.keys()].sort()).toEqual(EXPECTED);
    // Never acknowledged, so it must come again; exactly once more.
    for (const [a, n] of c) expect(n, a).toBe(inFlight.has(a) ? 2 : 1);
  }, 240_000);

  it('SIGKILL during group_wait, after the evaluation was saved: each alert is sent once, after the restart', async () => {
    const { cwd, hook, state } = await setUp([], {}, '5m');
    const p = start(cwd, ['start', '--now', DEMO_END_ISO]);
    const waitingAlerts = (): number => {
      if (!existsSync(state)) return 0;
      const snap = JSON.parse(readFileSync(state, 'utf8')) as { notifications: { type: string; alerts?: unknown[] }[] };
      return snap.notifications.filter((e) => e.type === 'delivery').reduce((n, e) => n + (e.alerts?.length ?? 0), 0);
    };
    await until(() => waitingAlerts() >= EXPECTED.length, 90_000, 'the ten alerts saved as waiting in the state file');
    await killed(p);
    expect(hook.requests).toHaveLength(0);

    // The restart's clock is 10 minutes on: group_wait is over, the batch leaves at once.
    await restartAndSettle(cwd);
    const c = counts(hook.requests);
    expect([...c.keys()].sort()).toEqual(EXPECTED);
    for (const [a, n] of c) expect(n, a).toBe(1);
  }, 240_000);
});
