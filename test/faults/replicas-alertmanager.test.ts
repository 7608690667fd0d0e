/**
 * Fault: one of two replicas goes away. Two real daemons (`agentdrift start`), each on its own
 * embedded store holding the identical demo, evaluate the same rules and send to one real
 * Alertmanager (prometheus-alertmanager), which notifies a loopback webhook that counts. The
 * Prometheus way: Alertmanager deduplicates the replicas' identical alerts into one notification per
 * alert group, and when one replica stops, the other's re-sends keep the alert firing there past the
 * moment the stopped replica's last endsAt runs out.
 *
 * Time: Alertmanager judges startsAt and endsAt against its own wall clock, so these daemons run on
 * the real time (no `--now`), and the demo is seeded ending at the start of the current hour. The
 * demo fires the same alerts whatever hour it ends on (test/demo/any-day.test.ts); this test only
 * counts what reaches the receiver, so nothing here depends on the day it runs.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAlertmanager, startAlertmanager, type Alertmanager } from '../helpers/alertmanager.js';
import { metricsUrlOf, runCli, scrapeValue, startCli, type LiveProcess } from '../helpers/cli.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/httpReceiver.js';
import { waitUntil } from '../helpers/process.js';

const bins = findAlertmanager();
const RESEND_S = 10;
const INTERVAL_S = 2;
/** How long an alert sent by a replica stays valid in Alertmanager: 4 x max(resend, interval). */
const VALID_MS = 4 * Math.max(RESEND_S, INTERVAL_S) * 1000;

const RULES = `groups:
  - name: replicas
    interval: ${INTERVAL_S}s
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
        labels: { severity: warning }
`;

function amConfig(hook: string): string {
  return `route:
  receiver: hook
  group_by: [alertname, workflow_id, tool]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: ${JSON.stringify(hook)}
        send_resolved: true
`;
}

function daemonConfig(dir: string, store: string, amUrl: string): string {
  const file = join(dir, `${store}.yaml`);
  writeFileSync(
    file,
    `clickhouse: { target: "chdb:${join(dir, store)}" }
rules: ["${join(dir, 'rules.yaml')}"]
state_file: "${join(dir, `${store}-state.json`)}"
listen: 127.0.0.1:0
rollup: { enabled: false }
receivers:
  - name: am
    alertmanager: { url: "${amUrl}", resend_interval: ${RESEND_S}s }
route: { receivers: [am], group_wait: 0s }
`,
  );
  return file;
}

interface AmWebhook {
  status: 'firing' | 'resolved';
  groupKey: string;
  alerts: { status: string; labels: Record<string, string> }[];
}
interface AmAlert {
  labels: Record<string, string>;
  endsAt: string;
  status: { state: string };
}

if (bins === null) {
  if (process.env.CI) {
    it('prometheus-alertmanager is installed (required in CI)', () => {
      throw new Error('prometheus-alertmanager not found: .ci/run installs it');
    });
  } else {
    it.skip('replicas with Alertmanager (prometheus-alertmanager not installed)', () => {});
  }
} else {
  describe('fault: two replicas send to Alertmanager, then one stops', () => {
    let dir: string;
    let hook: HttpReceiver;
    let am: Alertmanager;
    const daemons: LiveProcess[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'agentdrift-replicas-'));
      const end = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString();
      // Seeded once; chDB locks its directory, so each replica gets a copy of the same store.
      const seed = runCli(['demo', 'seed', '--clickhouse', `chdb:${join(dir, 'seed')}`, '--end', end, '--days', '15', '--runs-per-day', '1500'], dir);
      expect(seed.code, seed.stderr).toBe(0);
      cpSync(join(dir, 'seed'), join(dir, 'a'), { recursive: true });
      cpSync(join(dir, 'seed'), join(dir, 'b'), { recursive: true });
      writeFileSync(join(dir, 'rules.yaml'), RULES);
      hook = await startHttpReceiver([], { fallback: 200 });
      am = await startAlertmanager(bins, { config: amConfig(`${hook.url}/hook`) });
      for (const store of ['a', 'b']) daemons.push(startCli(['start', '-c', daemonConfig(dir, store, am.url)], dir));
    }, 100_000);

    afterAll(async () => {
      for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL');
      await Promise.all(daemons.map((d) => d.exited));
      await am?.stop();
      await hook?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const notifications = (): AmWebhook[] => hook.requests.map((r) => r.body as AmWebhook);
    const activeAlerts = async (): Promise<AmAlert[]> => {
      const r = await fetch(`${am.url}/api/v2/alerts?active=true&silenced=false&inhibited=false`);
      return ((await r.json()) as AmAlert[]).filter((a) => a.labels.alertname === 'ReplicaToolCallsUp' && a.status.state === 'active');
    };
    const groupKeys = (): Map<string, number> => {
      const counts = new Map<string, number>();
      for (const n of notifications()) counts.set(`${n.status} ${n.groupKey}`, (counts.get(`${n.status} ${n.groupKey}`) ?? 0) + 1);
      return counts;
    };

    it('both replicas send every alert, and Alertmanager notifies once per alert group', async () => {
      const urls = await Promise.all(daemons.map((d) => metricsUrlOf(d, 60_000)));
      const sent = 'agentdrift_notifications_total{receiver="am",integration="alertmanager"}';
      // Each replica has delivered its alerts to Alertmanager (and re-sent them at least once).
      await waitUntil(async () => (await Promise.all(urls.map((u) => scrapeValue(u, sent)))).every((n) => n >= 2), {
        timeoutMs: 60_000,
        intervalMs: 250,
        describe: () => `both replicas sending to Alertmanager; logs:\n${daemons.map((d) => d.lines.slice(-5).join('\n')).join('\n---\n')}`,
      });
      const alerts = await activeAlerts();
      // The demo's drift (a) fires for invoice_enrichment (per tool); others may fire too.
      expect(alerts.map((a) => a.labels.workflow_id)).toContain('invoice_enrichment');
      // Labels identify the alert, not the replica: one alert in Alertmanager per series.
      expect(new Set(alerts.map((a) => JSON.stringify(a.labels))).size).toBe(alerts.length);
      await waitUntil(() => notifications().length >= alerts.length || undefined, { timeoutMs: 20_000, intervalMs: 100, describe: 'Alertmanager notifying the webhook' });
      // Several group_intervals more for a second notification to show up, were there one.
      await new Promise((r) => setTimeout(r, 4_000));
      const counts = groupKeys();
      expect([...counts.keys()].every((k) => k.startsWith('firing '))).toBe(true);
      expect(counts.size).toBe(alerts.length);
      expect([...counts.values()].every((n) => n === 1), JSON.stringify([...counts])).toBe(true);
    }, 100_000);

    it('when one replica stops, the survivor keeps the alerts firing past the stopped one\'s endsAt', async () => {
      const before = await activeAlerts();
      expect(before.length).toBeGreaterThan(0);
      const [stopped] = daemons;
      stopped!.child.kill('SIGTERM');
      expect(await stopped!.exited).toBe(0);
      // Whatever the stopped replica last sent is valid until at most now + VALID_MS.
      const expiredAt = Date.now() + VALID_MS;
      await new Promise((r) => setTimeout(r, VALID_MS + 3_000));
      expect(Date.now()).toBeGreaterThan(expiredAt);
      const after = await activeAlerts();
      expect(after.map((a) => JSON.stringify(a.labels)).sort()).toEqual(before.map((a) => JSON.stringify(a.labels)).sort());
      for (const a of after) expect(Date.parse(a.endsAt)).toBeGreaterThan(Date.now());
      // No resolved notification, and still one notification per group.
      const counts = groupKeys();
      expect([...counts.keys()].filter((k) => k.startsWith('resolved '))).toEqual([]);
      expect([...counts.values()].every((n) => n === 1), JSON.stringify([...counts])).toBe(true);
    }, 100_000);
  });
}
