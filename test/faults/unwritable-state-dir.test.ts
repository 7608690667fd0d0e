/**
 * Fault: the state directory stops being writable while the daemon runs. Every failed save is
 * counted (`agentdrift_state_persist_failures_total`), /readyz answers 503 naming the state check and
 * why, evaluations go on; once the directory is writable again the next save succeeds and /readyz
 * recovers. The daemon runs as an unprivileged user (root writes anywhere), on an empty store with a
 * rule group evaluated every second, so a save follows every second.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, metricsUrlOf, scrapeValue, startCli, type LiveProcess } from '../helpers/cli.js';

// root ignores permissions: run as nobody there, as the user itself elsewhere.
const AS = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
let cwd: string;
let stateDir: string;
let daemon: LiveProcess | null = null;

function chownTree(p: string): void {
  if (AS.uid === undefined) return;
  chownSync(p, AS.uid, AS.gid!);
  if (statSync(p).isDirectory()) for (const n of readdirSync(p)) chownTree(join(p, n));
}

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'agentdrift-unwritable-'));
  stateDir = join(cwd, 'state');
  mkdirSync(stateDir);
  mkdirSync(join(cwd, 'rules'));
  writeFileSync(
    join(cwd, 'rules', 'fast.yaml'),
    'groups:\n  - name: every-second\n    interval: 1s\n    rules:\n      - alert: CostUp\n        signal: cost_per_success\n        threshold: 50%\n        min_runs: 100\n',
  );
  writeFileSync(join(cwd, 'agentdrift.yaml'), 'listen: 127.0.0.1:0\nrules: [rules]\nstate_file: ./state/agentdrift-state.json\n');
  chownTree(cwd);
  const r = spawnSync(process.execPath, [BIN, 'migrate'], { cwd, encoding: 'utf8', timeout: 60_000, ...AS });
  expect(r.status, r.stderr).toBe(0);
});

afterAll(async () => {
  chmodSync(stateDir, 0o755);
  if (daemon && daemon.child.exitCode === null) {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  }
});

async function readyz(metricsUrl: string): Promise<{ status: number; body: { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> } }> {
  const res = await fetch(metricsUrl.replace(/\/metrics$/, '/readyz'));
  return { status: res.status, body: (await res.json()) as { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> } };
}

async function until<T>(f: () => Promise<T>, ok: (x: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const x = await f();
    if (ok(x)) return x;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(x)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('unwritable state directory', () => {
  it('unwritable state directory: each failed save is counted and /readyz fails with the reason; both recover once it is writable', async () => {
    daemon = startCli(['start', '--now', '2026-12-03T17:00:00Z'], cwd, {}, AS);
    const metrics = await metricsUrlOf(daemon);
    await until(() => readyz(metrics), (r) => r.status === 200, 30_000, '/readyz 200');
    expect(await scrapeValue(metrics, 'agentdrift_state_persist_failures_total')).toBe(0);
    await until(() => scrapeValue(metrics, 'agentdrift_state_last_persist_success_timestamp_seconds'), (v) => v > 0, 10_000, 'a first successful save');

    chmodSync(stateDir, 0o555);
    const failing = await until(() => readyz(metrics), (r) => r.status === 503, 15_000, '/readyz 503');
    expect(failing.body.checks.state!.ok).toBe(false);
    expect(failing.body.checks.state!.detail).toMatch(new RegExp(`^saving state failed .*: could not save alert state to ${join(stateDir, 'agentdrift-state.json')}: EACCES`));
    // Only the state is the matter: ClickHouse and the evaluations are fine.
    expect(failing.body.checks.clickhouse!.ok).toBe(true);
    expect(failing.body.checks.evaluation!.ok).toBe(true);
    const failures = await until(() => scrapeValue(metrics, 'agentdrift_state_persist_failures_total'), (n) => n >= 2, 10_000, 'two counted failures');
    expect(failures).toBeGreaterThanOrEqual(2);
    const lastOk = await scrapeValue(metrics, 'agentdrift_state_last_persist_success_timestamp_seconds');

    chmodSync(stateDir, 0o755);
    const recovered = await until(() => readyz(metrics), (r) => r.status === 200, 15_000, '/readyz 200 again');
    expect(recovered.body.checks.state!.detail).toMatch(/^last saved /);
    expect(await scrapeValue(metrics, 'agentdrift_state_last_persist_success_timestamp_seconds')).toBeGreaterThan(lastOk);
    expect(daemon.lines.join('\n')).toMatch(/could not persist alert state/);
  }, 90_000);
});
