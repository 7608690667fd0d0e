/**
 * Fault: a burst of reloads. The rule file is rewritten ten times in quick succession, each write
 * followed by two SIGHUPs (and the file watcher's own reload), while the group evaluates every 2 s.
 * Reloads are serialized: whatever the order they were asked in, the one that runs last reads the
 * file last, so the newest rule set wins; and the runners of every replaced rule set stop, so the
 * group is evaluated at its interval, not once per leaked runner. The real CLI daemon on the pinned
 * demo.
 */
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsUrlOf, runCli, scrapeValue, startCli, waitForEvaluations, type LiveProcess } from '../helpers/cli.js';
import { DEMO_END_ISO } from '../helpers/demo.js';

const VERSIONS = 10;
const INTERVAL_S = 2;
const GROUP = 'burst';
let cwd: string;
let daemon: LiveProcess | null = null;

/** Version `v` of the rule file: one rule, named for its version. */
function ruleFile(v: number): string {
  return [
    'groups:',
    `  - name: ${GROUP}`,
    `    interval: ${INTERVAL_S}s`,
    '    rules:',
    `      - alert: Version${v}`,
    '        signal: tool_calls_per_run',
    '        where: { environment: prod, workflow_id: invoice_enrichment }',
    '        threshold: 20%',
    '        min_runs: 50',
    '',
  ].join('\n');
}

/** Replaces the rule file in one step, as an editor or a config manager does. */
function writeRules(v: number): void {
  const tmp = join(cwd, `burst.yaml.${v}.tmp`);
  writeFileSync(tmp, ruleFile(v));
  renameSync(tmp, join(cwd, 'rules', 'burst.yaml'));
}

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'agentdrift-reloadburst-'));
  mkdirSync(join(cwd, 'rules'));
  writeFileSync(join(cwd, 'agentdrift.yaml'), 'listen: 127.0.0.1:0\nrules: [rules]\n');
  writeRules(0);
  const r = runCli(['demo', 'seed', '--end', DEMO_END_ISO], cwd);
  expect(r.code, r.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
});

const sample = (name: string) => `${name}{group="${GROUP}"}`;

describe('fault: reload burst', () => {
  it('ten rewrites with two SIGHUPs each: the newest file wins, and the group runs at its interval (no leaked runners)', async () => {
    daemon = startCli(['start', '--now', DEMO_END_ISO], cwd);
    const metrics = await metricsUrlOf(daemon);
    await waitForEvaluations(metrics, GROUP, 1, 60_000);

    for (let v = 1; v <= VERSIONS; v++) {
      writeRules(v);
      daemon.child.kill('SIGHUP');
      daemon.child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 30 + (v % 3) * 40));
    }

    // Settled: no reload has run for 3 s (the watcher waits for 1 s of quiet; each reload takes well under that).
    const reloads = async () => (await scrapeValue(metrics, 'agentdrift_rule_reloads_total{result="success"}')) + (await scrapeValue(metrics, 'agentdrift_rule_reloads_total{result="failure"}'));
    const end = Date.now() + 60_000;
    let last = await reloads();
    for (;;) {
      await new Promise((r) => setTimeout(r, 3_000));
      const now = await reloads();
      if (now === last) break;
      if (Date.now() > end) throw new Error('reloads did not settle within 60 s');
      last = now;
    }
    expect(await scrapeValue(metrics, 'agentdrift_rule_reloads_total{result="failure"}')).toBe(0);
    expect(last).toBeGreaterThanOrEqual(2);
    const reloaded = daemon.lines.filter((l) => l.includes('"rules reloaded"') || l.includes('rules reloaded'));
    expect(reloaded.length).toBeGreaterThan(0);

    // The newest file won: after the next evaluation only Version10 is loaded, evaluated and exported.
    const before = await scrapeValue(metrics, sample('agentdrift_group_evaluations_total'));
    await waitForEvaluations(metrics, GROUP, before + 1, 30_000);
    expect(await scrapeValue(metrics, 'agentdrift_rules_loaded')).toBe(1);
    const text = await (await fetch(metrics)).text();
    const exported = new Set([...text.matchAll(/^agentdrift_signal_current_value\{[^}]*rule="([^"]+)"/gm)].map((m) => m[1]));
    expect([...exported]).toEqual([`Version${VERSIONS}`]);
    const alerts = (await (await fetch(metrics.replace(/\/metrics$/, '/alerts'))).json()) as { alertname: string }[];
    expect([...new Set(alerts.map((a) => a.alertname))]).toEqual([`Version${VERSIONS}`]);

    // One runner: over 12 s the group is due 6 times; every tick is an evaluation or a counted
    // overlap skip. Leaked runners (one per overlapping reload) would each add their own ticks.
    const ticks = async () => (await scrapeValue(metrics, sample('agentdrift_group_evaluations_total'))) + (await scrapeValue(metrics, sample('agentdrift_group_skipped_evaluations_total')));
    const t0 = await ticks();
    const windowMs = 12_000;
    await new Promise((r) => setTimeout(r, windowMs));
    const delta = (await ticks()) - t0;
    expect(delta).toBeGreaterThanOrEqual(windowMs / 1000 / INTERVAL_S - 2);
    expect(delta).toBeLessThanOrEqual(windowMs / 1000 / INTERVAL_S + 1);

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  }, 180_000);
});
