/**
 * The set-up of the fault tests that watch what a real daemon sends: a working directory with the
 * pinned demo seeded and the default rules copied, and a webhook receiver on loopback that every
 * alert goes to at once (group_wait 0s).
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './cli.js';
import { DEMO_END_ISO } from './demo.js';
import { startHttpReceiver, type HttpReceiver } from './httpReceiver.js';

export interface SentAlert {
  readonly status: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
}

export interface DemoWithWebhook {
  readonly cwd: string;
  readonly hook: HttpReceiver;
  /** Every alert the receiver got, in order. */
  sent(): SentAlert[];
}

export async function demoWithWebhook(prefix: string): Promise<DemoWithWebhook> {
  const cwd = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(cwd, 'agentdrift.yaml'), 'listen: 127.0.0.1:0\n');
  const r = runCli(['demo', 'seed', '--end', DEMO_END_ISO], cwd);
  expect(r.code, r.stderr).toBe(0);
  cpSync(resolve(__dirname, '../../rules'), join(cwd, 'rules'), { recursive: true });
  const hook = await startHttpReceiver([], { fallback: 200 });
  writeFileSync(
    join(cwd, 'agentdrift.yaml'),
    `listen: 127.0.0.1:0
receivers:
  - name: hook
    webhook: { url: "${hook.url}/hook" }
route:
  receivers: [hook]
  group_wait: 0s
`,
  );
  return { cwd, hook, sent: () => hook.requests.flatMap((req) => (req.body as { alerts: SentAlert[] }).alerts) };
}

/** Polls `pred` every 100 ms; after `timeoutMs` fails with `what` and what the receiver got. */
export async function until(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string, got: () => SentAlert[]): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${JSON.stringify(got().map((a) => [a.labels.alertname, a.labels.workflow_id, a.status]))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
