/**
 * A real Prometheus Alertmanager (Debian's prometheus-alertmanager) for integration tests, private to
 * one test file: its own temp directory, config and storage, on a free 127.0.0.1 port, clustering off
 * (`--cluster.listen-address=` empty), a null receiver so nothing is sent anywhere (see configText).
 *
 * The binary is /usr/bin/prometheus-alertmanager on Debian (upstream names it `alertmanager`);
 * `amtool check-config` validates the generated config first.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, freePort, spawnServer, stopProcess, waitForHttpReady } from './process.js';

export interface Alertmanager {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** stdout and stderr so far, for failure messages. */
  logs(): string;
  /** SIGTERM (SIGKILL after a grace period), then delete the temp directory. Idempotent. */
  stop(): Promise<void>;
}

export interface AlertmanagerBinaries {
  readonly alertmanager: string;
  readonly amtool: string | null;
}

function which(names: readonly string[]): string | null {
  return findExecutable(names, ['/usr/bin', '/usr/local/bin', '/usr/sbin']) ?? null;
}

/** Null when Alertmanager is not installed. */
export function findAlertmanager(): AlertmanagerBinaries | null {
  const alertmanager = which(['prometheus-alertmanager', 'alertmanager']);
  if (alertmanager === null) return null;
  return { alertmanager, amtool: which(['amtool']) };
}

/**
 * The null receiver takes everything, except alerts labelled `am_capture="true"` when a capture URL
 * is given: Alertmanager's v2 API does not list resolved alerts, so the only way to see the endsAt
 * it stored is to let it notify a webhook (send_resolved) and read that.
 */
function configText(captureUrl: string | undefined): string {
  const capture = captureUrl === undefined ? '' : `  routes:
    - matchers: ['am_capture="true"']
      receiver: capture
`;
  const captureReceiver = captureUrl === undefined ? '' : `  - name: capture
    webhook_configs:
      - url: ${JSON.stringify(captureUrl)}
        send_resolved: true
`;
  return `route:
  receiver: 'null'
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 1h
${capture}receivers:
  - name: 'null'
${captureReceiver}`;
}

function run(cmd: string, args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** `config`: a whole alertmanager.yml instead of the default (null receiver, optional capture route). */
export async function startAlertmanager(bins: AlertmanagerBinaries, opts: { readyTimeoutMs?: number; captureUrl?: string; config?: string } = {}): Promise<Alertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'agentdrift-am-'));
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(configFile, opts.config ?? configText(opts.captureUrl));
  if (bins.amtool !== null) {
    const check = await run(bins.amtool, ['check-config', configFile]);
    if (check.code !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`amtool check-config failed:\n${check.output}`);
    }
  }

  let lastError: Error | null = null;
  // A free port can be taken between probing and binding; a few attempts make that race harmless.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const p = spawnServer(bins.alertmanager, [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=info',
    ]);
    const logs = (): string => {
      const spawnError = p.spawnError();
      return spawnError ? `spawn error: ${spawnError.message}\n${p.output()}` : p.output();
    };

    const url = `http://127.0.0.1:${port}`;
    const ready = await waitForHttpReady(p, `${url}/-/ready`, opts.readyTimeoutMs ?? 20_000);
    let stopped: Promise<void> | null = null;
    const stop = (): Promise<void> => (stopped ??= stopProcess(p.child, 5_000));
    if (ready) {
      return {
        url,
        port,
        dir,
        logs,
        stop: async () => {
          await stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await stop();
    lastError = new Error(`alertmanager did not become ready on ${url}:\n${logs()}`);
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error('alertmanager did not start');
}
