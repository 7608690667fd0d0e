/**
 * `agentdrift test-receivers`: one sample alert to every receiver, each result reported, so a wrong
 * webhook URL or SMTP password shows up before the first real drift does. The sample is marked as
 * a test in its labels (`agentdrift_test="true"`, alertname AgentdriftTestAlert) and its summary,
 * so receivers can route or silence it, and it expires in Alertmanager by itself after 5 minutes.
 */
import type { AlertNotification, FailureReason, Integration, Notifier } from './types.js';

export interface TestReceiverResult {
  readonly receiver: string;
  readonly integration: Integration;
  readonly ok: boolean;
  /** "delivered", or the (secret-free) error message. */
  readonly detail: string;
  readonly reason?: FailureReason;
  readonly recoverable?: boolean;
  readonly durationMs: number;
}

export const TEST_LABEL = 'agentdrift_test';
const TEST_TTL_MS = 5 * 60_000;

export function sampleAlert(now: number = Date.now()): AlertNotification {
  return {
    fingerprint: `agentdrift-test-${now.toString(36)}`,
    status: 'firing',
    labels: { alertname: 'AgentdriftTestAlert', severity: 'none', [TEST_LABEL]: 'true', workflow_id: 'example_workflow', tool: 'example_tool' },
    annotations: {
      summary: 'TEST from agentdrift test-receivers: not a real alert, no action needed',
      description: 'If you can read this, agentdrift can deliver alerts to this receiver.',
    },
    startsAt: new Date(now).toISOString(),
    endsAt: new Date(now + TEST_TTL_MS).toISOString(),
    generatorURL: '',
    evidence: {
      signal: 'tool_calls_per_run',
      key: 'example_tool',
      current: 1.74,
      baseline: 1.09,
      deviation: 0.596,
      isNew: false,
      window: 'last 7d',
      baselineWindow: 'previous 7d',
      currentRuns: 8355,
      baselineRuns: 8314,
      pValue: 1e-12,
      threshold: 0.2,
      direction: 'up',
      contributors: [{ name: 'example_tool', current: 1.74, baseline: 1.09 }],
      exampleRunIds: ['run_test_1', 'run_test_2'],
      // What a real alert's explanation looks like (src/explain), so a receiver shows its layout.
      explanation: {
        onset: 'started 2026-11-17 09:00 UTC ± 1 h (Tuesday)',
        moved: 'example_tool 1.09 → 1.74 (+0.65, 100% of the change)',
        cause: 'prompt_version example-v2 explains 92% of the change (on 70% of current runs, 0% before)',
        examples: [
          { runId: 'run_test_1', traceId: '00000000000000000000000000000001' },
          { runId: 'run_test_2', traceId: '00000000000000000000000000000002' },
        ],
      },
    },
  };
}

/** A caller's own sample, marked as a test all the same. */
function markAsTest(a: AlertNotification, now: number): AlertNotification {
  const summary = a.annotations.summary ?? '';
  return {
    ...a,
    status: 'firing',
    labels: { ...a.labels, [TEST_LABEL]: 'true' },
    annotations: { ...a.annotations, summary: summary.startsWith('TEST') ? summary : `TEST from agentdrift test-receivers: ${summary || 'not a real alert'}` },
    endsAt: a.endsAt ?? new Date(now + TEST_TTL_MS).toISOString(),
  };
}

export async function testReceivers(
  notifiers: readonly Notifier[],
  sample?: AlertNotification,
  opts: { readonly timeoutMs?: number; readonly now?: () => number } = {},
): Promise<TestReceiverResult[]> {
  const now = opts.now ?? Date.now;
  const alert = sample !== undefined ? markAsTest(sample, now()) : sampleAlert(now());
  return Promise.all(
    notifiers.map(async (n): Promise<TestReceiverResult> => {
      const started = now();
      const ac = new AbortController();
      // Each notifier has its own timeout; this only bounds one that does not honour it.
      const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 60_000);
      try {
        const r = await n.notify([alert], ac.signal);
        const durationMs = now() - started;
        if (r.ok) return { receiver: n.name, integration: n.integration, ok: true, detail: 'delivered', durationMs };
        return { receiver: n.name, integration: n.integration, ok: false, detail: r.error.message, reason: r.reason, recoverable: r.recoverable, durationMs };
      } catch (e) {
        return { receiver: n.name, integration: n.integration, ok: false, detail: `notifier threw ${e instanceof Error ? e.name : typeof e}`, reason: 'other', recoverable: false, durationMs: now() - started };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

/** A table for the terminal, one line per receiver, then a summary line. */
export function formatTestReport(results: readonly TestReceiverResult[]): string {
  if (results.length === 0) return 'no receivers configured\n';
  const rows = results.map((r) => [
    r.receiver,
    r.integration,
    r.ok ? 'ok' : 'FAILED',
    r.ok ? `${r.detail} (${r.durationMs}ms)` : `${r.reason ?? 'other'}${r.recoverable ? ', transient' : ''}: ${r.detail}`,
  ]);
  const header = ['RECEIVER', 'INTEGRATION', 'RESULT', 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cols: string[]): string => cols.map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const failed = results.filter((r) => !r.ok).length;
  const summary = failed === 0 ? `all ${results.length} receivers ok` : `${failed} of ${results.length} receivers failed`;
  return `${[line(header), ...rows.map(line)].join('\n')}\n${summary}\n`;
}
