/**
 * Fault: two replicas with a direct receiver (a webhook; Slack and email are the same case).
 * Alertmanager deduplicates replicas, a webhook does not: the rule is that at most one replica sends
 * to direct receivers and every other is started with `--alertmanager-only`. Two real daemons on
 * copies of the pinned demo, the same configuration file and rules; the second runs with the flag.
 * Each alert must reach the webhook exactly once, from the first replica; the second must have no
 * webhook lane at all, and say so at start.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsUrlOf, runCli, scrapeValue, startCli, waitForEvaluations, type LiveProcess } from '../helpers/cli.js';
import { DEMO_END_ISO } from '../helpers/demo.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/httpReceiver.js';
import { waitUntil } from '../helpers/process.js';

const RULES = `groups:
  - name: replicas
    interval: 2s
    rules:
      - alert: ReplicaToolCallsUp
        signal: tool_calls_per_run
        where: { environment: prod }
        group_by: [workflow_id]
        window: 7d
        baseline: { previous: 7d }
        threshold: 20%
        direction: up
        min_runs: 100
        significance: 0.001
`;

describe('fault: two replicas with a direct receiver', () => {
  let dir: string;
  let hook: HttpReceiver;
  const daemons: LiveProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentdrift-direct-'));
    const seed = runCli(['demo', 'seed', '--clickhouse', `chdb:${join(dir, 'seed')}`, '--end', DEMO_END_ISO, '--days', '15', '--runs-per-day', '1500'], dir);
    expect(seed.code, seed.stderr).toBe(0);
    cpSync(join(dir, 'seed'), join(dir, 'a'), { recursive: true });
    cpSync(join(dir, 'seed'), join(dir, 'b'), { recursive: true });
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    hook = await startHttpReceiver([], { fallback: 200 });
    // One configuration for both, as replicas have; only the store, state file and flag differ.
    writeFileSync(
      join(dir, 'agentdrift.yaml'),
      `clickhouse: { target: "chdb:\${STORE}" }
rules: ["${join(dir, 'rules.yaml')}"]
state_file: "\${STORE}-state.json"
listen: 127.0.0.1:0
rollup: { enabled: false }
receivers:
  - name: hook
    webhook: { url: "${hook.url}/hook" }
route: { receivers: [hook], group_wait: 0s }
`,
    );
    const start = (store: string, extra: string[]) =>
      startCli(['start', '-c', join(dir, 'agentdrift.yaml'), '--now', DEMO_END_ISO, ...extra], dir, { STORE: join(dir, store) });
    daemons.push(start('a', []), start('b', ['--alertmanager-only']));
  }, 90_000);

  afterAll(async () => {
    for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL');
    await Promise.all(daemons.map((d) => d.exited));
    await hook?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('each alert reaches the webhook once: the --alertmanager-only replica sends it nothing', async () => {
    const [a, b] = await Promise.all(daemons.map((d) => metricsUrlOf(d, 60_000)));
    const sent = 'agentdrift_notifications_total{receiver="hook",integration="webhook"}';
    await waitUntil(async () => (await scrapeValue(a!, sent)) >= 1 || undefined, { timeoutMs: 60_000, intervalMs: 250, describe: 'replica a notifying the webhook' });
    // Both replicas have evaluated (and found the same alerts firing) several times since.
    await Promise.all([a!, b!].map((u) => waitForEvaluations(u, 'replicas', 4, 60_000)));
    await new Promise((r) => setTimeout(r, 2_000));

    const perAlert = new Map<string, number>();
    for (const req of hook.requests) {
      for (const alert of (req.body as { alerts: { fingerprint: string; status: string }[] }).alerts) {
        perAlert.set(`${alert.status} ${alert.fingerprint}`, (perAlert.get(`${alert.status} ${alert.fingerprint}`) ?? 0) + 1);
      }
    }
    expect(perAlert.size).toBeGreaterThan(0);
    expect([...perAlert.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    // The second replica built no webhook lane (no counter for it) and said why at start.
    const bMetrics = await (await fetch(b!)).text();
    expect(bMetrics).not.toContain('receiver="hook"');
    expect(daemons[1]!.lines.some((l) => l.includes('--alertmanager-only') && l.includes('hook'))).toBe(true);
  }, 120_000);
});
