/**
 * The Alertmanager notifier against a real Prometheus Alertmanager (Debian's prometheus-alertmanager,
 * installed by .ci/run). Skipped, visibly, on a machine without it; a failure in CI, where it must exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertmanagerNotifier } from '../../src/notify/alertmanager.js';
import { MOVED, alert as driftAlert } from '../helpers/alerts.js';
import { findAlertmanager, startAlertmanager, type Alertmanager } from '../helpers/alertmanager.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/httpReceiver.js';

const bins = findAlertmanager();

if (bins === null) {
  if (process.env.CI) {
    it('prometheus-alertmanager is installed (required in CI)', () => {
      throw new Error('prometheus-alertmanager not found: .ci/run installs it (apt-get install -y --no-install-recommends prometheus-alertmanager)');
    });
  } else {
    console.warn('SKIPPED test/notify/alertmanager.test.ts: prometheus-alertmanager is not installed');
    it.skip('Alertmanager integration (prometheus-alertmanager not installed; apt-get install prometheus-alertmanager)', () => {});
  }
} else {
  describe('Alertmanager notifier (real Alertmanager)', () => {
    let am: Alertmanager;
    let capture: HttpReceiver;

    beforeAll(async () => {
      capture = await startHttpReceiver([], { fallback: 200 });
      am = await startAlertmanager(bins, { captureUrl: `${capture.url}/am-webhook` });
    });

    afterAll(async () => {
      await am?.stop();
      await capture?.close();
    });

    interface GettableAlert {
      labels: Record<string, string>;
      annotations: Record<string, string>;
      startsAt: string;
      endsAt: string;
      generatorURL?: string;
      status: { state: string };
    }

    async function activeAlerts(): Promise<GettableAlert[]> {
      const r = await fetch(`${am.url}/api/v2/alerts`);
      expect(r.status).toBe(200);
      return (await r.json()) as GettableAlert[];
    }

    const startsAt = new Date(Date.now() - 3600_000).toISOString();
    const alert = driftAlert({
      labels: { am_capture: 'true' },
      startsAt,
      evidence: { contributors: [{ name: 'enrich_company', current: 1.74, baseline: 1.09 }] },
    });

    it('a firing alert shows up active with its labels and annotations; its resolution ends it at the resolve time', async () => {
      const n = new AlertmanagerNotifier({ name: 'am', url: am.url, resendIntervalMs: 60_000 });
      const sentAt = Date.now();
      expect(await n.notify([alert], new AbortController().signal)).toEqual({ ok: true });

      const [got] = (await activeAlerts()).filter((a) => a.labels.alertname === 'ToolCallsPerRunUp');
      expect(got).toBeDefined();
      expect(got!.labels).toEqual(alert.labels);
      expect(got!.annotations).toEqual({
        ...alert.annotations,
        agentdrift_change: MOVED,
        agentdrift_example_runs: 'run_8f1c, run_77aa',
      });
      expect(got!.status.state).toBe('active');
      expect(Date.parse(got!.startsAt)).toBe(Date.parse(startsAt));
      expect(got!.generatorURL).toBe(alert.generatorURL);
      // Valid for four resend intervals, as Prometheus does.
      const validFor = Date.parse(got!.endsAt) - sentAt;
      expect(validFor).toBeGreaterThan(4 * 60_000 - 5000);
      expect(validFor).toBeLessThanOrEqual(4 * 60_000 + 5000);

      const resolvedAt = new Date(Date.now() - 1000).toISOString();
      expect(await n.notify([{ ...alert, status: 'resolved', endsAt: resolvedAt }], new AbortController().signal)).toEqual({ ok: true });
      expect((await activeAlerts()).filter((a) => a.labels.alertname === 'ToolCallsPerRunUp')).toEqual([]);

      // The v2 API lists active alerts only; Alertmanager's own resolved notification shows the endsAt it stored.
      const deadline = Date.now() + 20_000;
      let resolved: { status: string; endsAt: string; labels: Record<string, string> } | undefined;
      while (resolved === undefined && Date.now() < deadline) {
        for (const r of capture.requests) {
          const body = r.body as { status?: string; alerts?: { status: string; endsAt: string; labels: Record<string, string> }[] };
          resolved ??= body.alerts?.find((a) => a.status === 'resolved' && a.labels.alertname === 'ToolCallsPerRunUp');
        }
        if (resolved === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      expect(resolved, `no resolved notification from Alertmanager; its log:\n${am.logs()}`).toBeDefined();
      expect(Date.parse(resolved!.endsAt)).toBe(Date.parse(resolvedAt));
    });

    it('a path prefix in the URL is kept; a 404 from a wrong prefix is a permanent failure', async () => {
      const n = new AlertmanagerNotifier({ name: 'am', url: `${am.url}/wrong-prefix/` });
      const r = await n.notify([{ ...alert, labels: { alertname: 'Other' } }], new AbortController().signal);
      expect(r).toMatchObject({ ok: false, recoverable: false, reason: 'client_error' });
    });

    it('Alertmanager rejecting a malformed alert (400) is permanent', async () => {
      const n = new AlertmanagerNotifier({ name: 'am', url: am.url });
      // An empty label set is invalid in Alertmanager.
      const r = await n.notify([{ ...alert, labels: {} }], new AbortController().signal);
      expect(r).toMatchObject({ ok: false, recoverable: false, reason: 'client_error' });
    });
  });
}
