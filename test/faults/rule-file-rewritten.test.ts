/**
 * Fault: a rule file rewritten in place. Editors and config-management tools truncate a file and
 * write it again moments later; a reload between the two (the file watcher, or a SIGHUP) reads an
 * empty file, valid with 0 rules. Before the fix every firing alert was resolved as "rule removed"
 * and fired again with a new start time: 10 resolved + 10 firing notifications for nothing.
 *
 * Sequences, each on the running daemon with the demo's ten alerts firing, each expected to send
 * nothing: truncate then rewrite after the watcher's settle time (the watcher reloads the empty
 * file); truncate + SIGHUP then rewrite + SIGHUP; a half-written file (a firing rule missing) +
 * SIGHUP then the whole file + SIGHUP, where the returning rule keeps its series' state. Last, the
 * explicit empty set (`groups: []`) resolves every alert, once. The real CLI daemon on the pinned
 * demo, a real webhook receiver on loopback.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsUrlOf, scrapeValue, startCli, type LiveProcess } from '../helpers/cli.js';
import { DEMO_END_ISO } from '../helpers/demo.js';
import type { HttpReceiver } from '../helpers/httpReceiver.js';
import { demoWithWebhook, until, type SentAlert } from '../helpers/demoWebhook.js';

let cwd: string;
let hook: HttpReceiver;
let sent: () => SentAlert[];
let daemon: LiveProcess;
let metrics: string;
let original: string;

const rulesFile = () => join(cwd, 'rules', 'default.yaml');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const waitUntil = (pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => until(pred, timeoutMs, what, sent);

const reloads = (result: 'success' | 'failure') => scrapeValue(metrics, `agentdrift_rule_reloads_total{result="${result}"}`);

/** Firing series as /alerts shows them: id -> when it went active. */
async function firingSeries(): Promise<Map<string, string>> {
  const res = await fetch(metrics.replace(/\/metrics$/, '/alerts?state=firing'));
  const body = (await res.json()) as { alertname: string; labels: Record<string, string>; active_at: string }[];
  return new Map(body.map((a) => [`${a.alertname} ${JSON.stringify(a.labels)}`, a.active_at]));
}

beforeAll(async () => {
  const demo = await demoWithWebhook('agentdrift-rewritten-');
  ({ cwd, hook } = demo);
  sent = demo.sent;
  original = readFileSync(rulesFile(), 'utf8');
  daemon = startCli(['start', '--now', DEMO_END_ISO], cwd);
  metrics = await metricsUrlOf(daemon);
  await waitUntil(() => new Set(sent().map((a) => `${a.labels.alertname}/${a.labels.workflow_id}`)).size >= 10, 90_000, 'the ten demo alerts');
  // Let the first round's deliveries settle before counting.
  await sleep(1_000);
}, 240_000);

afterAll(async () => {
  if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
  await hook?.close();
});

describe('fault: a rule file rewritten in place sends nothing', () => {
  it('truncate, then rewrite after the watcher has read the empty file: refused, 0 notifications', async () => {
    const before = sent().length;
    const failures = await reloads('failure');
    writeFileSync(rulesFile(), '');
    // Past the settle time: the watcher reloads the empty file and must refuse it.
    await waitUntil(async () => (await reloads('failure')) > failures, 15_000, 'the refused reload of the empty file');
    expect(daemon.lines.join('\n')).toMatch(/rule reload refused: .*default\.yaml is empty now but held rules/);
    writeFileSync(rulesFile(), original);
    await waitUntil(async () => (await reloads('success')) >= 2, 15_000, 'the reload of the rewritten file');
    // Longer than the removal grace: a resolution held back by it would have gone out by now.
    await sleep(12_000);
    expect(sent().slice(before)).toEqual([]);
  }, 60_000);

  it('truncate + SIGHUP, rewrite + SIGHUP: 0 notifications', async () => {
    const before = sent().length;
    const failures = await reloads('failure');
    writeFileSync(rulesFile(), '# rewritten by config management\n');
    daemon.child.kill('SIGHUP');
    await waitUntil(async () => (await reloads('failure')) > failures, 15_000, 'the refused reload');
    writeFileSync(rulesFile(), original);
    daemon.child.kill('SIGHUP');
    await sleep(12_000);
    expect(sent().slice(before)).toEqual([]);
  }, 60_000);

  it('a half-written file, then the whole file within the grace: the returning rule keeps its state, 0 notifications', async () => {
    const before = sent().length;
    const firingBefore = await firingSeries();
    expect([...firingBefore.keys()].some((k) => k.startsWith('CostPerSuccessUp '))).toBe(true);
    const successes = await reloads('success');
    const from = original.indexOf('      - alert: CostPerSuccessUp\n');
    expect(from).toBeGreaterThan(0);
    // Cut mid-file at a rule boundary (a cut elsewhere is a syntax error, refused anyway): the
    // file's first two rules only, every later one (firing ones among them) gone.
    writeFileSync(rulesFile(), original.slice(0, from));
    daemon.child.kill('SIGHUP');
    await waitUntil(async () => (await reloads('success')) > successes, 15_000, 'the reload of the half-written file');
    writeFileSync(rulesFile(), original);
    daemon.child.kill('SIGHUP');
    await waitUntil(async () => (await reloads('success')) > successes + 1, 15_000, 'the reload of the whole file');
    await sleep(12_000);
    expect(sent().slice(before)).toEqual([]);
    // Same series firing since the same time: nothing was reset.
    expect(await firingSeries()).toEqual(firingBefore);
  }, 60_000);

  it('the explicit empty set (groups: []) resolves every firing alert, once', async () => {
    const before = sent().length;
    const firing = await firingSeries();
    expect(firing.size).toBeGreaterThanOrEqual(10);
    writeFileSync(rulesFile(), 'groups: []\n');
    daemon.child.kill('SIGHUP');
    await waitUntil(() => sent().slice(before).length >= firing.size, 30_000, 'a resolution for every firing series');
    await sleep(3_000);
    const after = sent().slice(before);
    expect(after.every((a) => a.status === 'resolved')).toBe(true);
    const ids = after.map((a) => `${a.labels.alertname} ${a.labels.workflow_id} ${a.labels.tool ?? ''} ${a.labels.fingerprint ?? ''}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(after).toHaveLength(firing.size);
  }, 60_000);
});
