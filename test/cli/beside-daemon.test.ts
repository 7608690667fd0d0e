/**
 * Every command beside a running daemon (src/cli/server.ts): on the pinned demo, while the daemon holds
 * the embedded store, `explain`, `eval`, `status` and `backtest` run as child processes, find the
 * daemon from its lock file (or --server) and print what the API's report prints; once the daemon is
 * stopped, the same commands on the same data (they then open the store themselves) print the same.
 * 127.0.0.1 only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printStatus, type StatusReport } from '../../src/report/commands.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { DEMO_END, DEMO_END_ISO, readmeDemoAlerts } from '../helpers/demo.js';
import { startDemoDaemon, type DemoDaemon } from '../helpers/demoDaemon.js';

const AT = ['--at', DEMO_END_ISO];
const COMMANDS: Record<string, string[]> = {
  explain: ['explain', 'ToolCallsPerRunUp', '--group', 'workflow_id=invoice_enrichment', ...AT],
  explainJson: ['explain', 'ToolCallsPerRunUp', '--group', 'workflow_id=invoice_enrichment', '--format', 'json', ...AT],
  eval: ['eval', ...AT],
  evalJson: ['eval', '--format', 'json', '--state', 'all', ...AT],
  backtest: ['backtest', '--from', new Date(DEMO_END - 86_400_000).toISOString(), '--to', DEMO_END_ISO, '--step', '1h'],
  backtestJson: ['backtest', '--from', new Date(DEMO_END - 86_400_000).toISOString(), '--to', DEMO_END_ISO, '--step', '1h', '--format', 'json'],
  status: ['status'],
};

/**
 * Equal JSON, numbers within 1e-9 (absolute or relative): ClickHouse sums floats over threads in no
 * fixed order, so two runs of the same query (the command's own, twice, too) can differ in the last
 * bits, and a deviation near 0 (a difference of near-equal values) shows them.
 */
function expectSameJson(a: unknown, b: unknown, path: string): void {
  if (typeof a === 'number' && typeof b === 'number') {
    expect(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)), `${path}: ${a} vs ${b}`).toBe(true);
    return;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    expect(a, path).toEqual(b);
    return;
  }
  expect(Object.keys(a), path).toEqual(Object.keys(b));
  for (const k of Object.keys(a)) expectSameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
}

/** The status lines that do not move while a daemon runs (its rollup passes and the aggregates' lag do). */
const steadyStatus = (text: string): string[] => text.split('\n').filter((l) => /^(agent runs|malformed runs|otel spans):/.test(l));

const ok = (r: CliResult, what: string): string => {
  expect(r.code, `${what}: ${r.stderr}`).toBe(0);
  expect(r.stderr, what).not.toMatch(/in use by another process/);
  return r.stdout;
};

describe('commands beside a running daemon (pinned demo)', () => {
  let d: DemoDaemon;
  const viaDaemon: Record<string, string> = {};

  beforeAll(async () => {
    d = await startDemoDaemon('beside');
  }, 240_000);

  afterAll(async () => {
    await d?.stop();
  });

  it('explain, eval, status and backtest run while the daemon holds the store, found from its lock file', () => {
    for (const [name, args] of Object.entries(COMMANDS)) viaDaemon[name] = ok(runCli(args, d.cwd), name);
    expect(viaDaemon.explain).toContain('prompt_version enrich-v13');
    expect(viaDaemon.explain).toMatch(/^ToolCallsPerRunUp workflow_id=invoice_enrichment tool=enrich_company as of /);
    const rows = JSON.parse(viaDaemon.evalJson!) as { state: string }[];
    expect(rows.filter((r) => r.state === 'firing')).toHaveLength(readmeDemoAlerts().length);
    expect(viaDaemon.status).toMatch(/^store: +chdb:/);
    expect(viaDaemon.backtest).toContain('alerts and firing hours over 24 hours');
  }, 120_000);

  it('--server URL asks that daemon: the same output', () => {
    expect(ok(runCli([...COMMANDS.explain!, '--server', d.base], d.cwd), 'explain --server')).toBe(viaDaemon.explain);
  });

  it('status prints what the API reports', async () => {
    const res = await fetch(`${d.base}/api/v1/commands/status`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    const report = (await res.json()) as StatusReport;
    expect(steadyStatus(`${printStatus(report, 'text').text}\n`)).toEqual(steadyStatus(viaDaemon.status!));
    expect(report.store).toBe(viaDaemon.status!.split('\n')[0]!.replace(/^store: +/, ''));
  });

  it('errors arrive as the same message and exit code', () => {
    const r = runCli(['explain', 'NoSuchRule', ...AT], d.cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^agentdrift: no rule named "NoSuchRule" in .*rules; known rules: ToolCallsPerRunUp, /);
    const s = runCli(['explain', 'ToolCallsPerRunUp', '--group', 'workflow_id=nope', ...AT], d.cwd);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/^agentdrift: no series of ToolCallsPerRunUp matches workflow_id=nope at /);
    const rules = runCli(['eval', '--rules', 'rules', ...AT], d.cwd);
    expect(rules.code).toBe(2);
    expect(rules.stderr).toMatch(/--rules cannot be used through the daemon/);
  });

  it('a cross-site POST to a command is refused', async () => {
    const res = await fetch(`${d.base}/api/v1/commands/eval`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site' },
      body: JSON.stringify({ at: DEMO_END_ISO }),
    });
    expect(res.status).toBe(403);
  });

  it('once the daemon is stopped, the commands open the store themselves and print the same', async () => {
    await d.stop();
    for (const [name, args] of Object.entries(COMMANDS)) {
      const direct = ok(runCli(args, d.cwd), `${name} without the daemon`);
      if (name === 'status') expect(steadyStatus(direct), name).toEqual(steadyStatus(viaDaemon.status!));
      else if (name.endsWith('Json')) expectSameJson(JSON.parse(direct), JSON.parse(viaDaemon[name]!), name);
      else expect(direct, name).toBe(viaDaemon[name]);
    }
  }, 180_000);
});
