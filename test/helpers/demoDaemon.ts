/**
 * A real daemon (the built launcher) on the pinned demo, for the tests of the web UI and /api/v1:
 * its own working directory (one chDB data directory per process), listening on 127.0.0.1 on a free
 * port, returned once the ten alerts of the README's table fire.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startCli, type LiveProcess } from './cli.js';
import { pinnedDemoStart, readmeDemoAlerts } from './demo.js';

export interface DemoDaemon {
  readonly proc: LiveProcess;
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly base: string;
  /** The daemon's working directory: its agentdrift.yaml, rules/ and data/. */
  readonly cwd: string;
  stop(): Promise<void>;
}

export async function startDemoDaemon(prefix: string, extraConfig = ''): Promise<DemoDaemon> {
  const cwd = mkdtempSync(join(tmpdir(), `agentdrift-${prefix}-`));
  cpSync(resolve(__dirname, '../../rules'), join(cwd, 'rules'), { recursive: true });
  writeFileSync(join(cwd, 'agentdrift.yaml'), `listen: 127.0.0.1:0\n${extraConfig}`);
  const proc = startCli(pinnedDemoStart(), cwd);
  const stop = async () => {
    if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
    await proc.exited;
  };
  try {
    const serving = await proc.waitFor((l) => l.includes('serving /alerts, /metrics'), 90_000);
    const base = String((JSON.parse(serving) as { url: string }).url);
    const want = readmeDemoAlerts().length;
    const end = Date.now() + 90_000;
    for (;;) {
      const r = (await (await fetch(`${base}/api/v1/alerts?state=firing`)).json()) as { counts: { firing: number } };
      if (r.counts.firing >= want) break;
      if (Date.now() > end) throw new Error(`only ${r.counts.firing} of ${want} demo alerts fire; last lines:\n${proc.lines.slice(-10).join('\n')}`);
      await new Promise((res) => setTimeout(res, 250));
    }
    return { proc, base, cwd, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
