/**
 * Fault: far more rules than a group's timeout allows. 10,000 rules in 10 files of 1,000 (one group
 * each, evaluated every 3 s with a 2 s timeout), on the pinned demo, in a real daemon process.
 *
 * What must hold:
 *  - loading and validating them (at start, and again on SIGHUP) does not stall the daemon's event
 *    loop: /healthz, probed every 25 ms, answers promptly throughout a 10k-rule reload;
 *  - every scheduled rule evaluation is done or counted as skipped, per rule and reason, in
 *    agentdrift_rule_evaluations_skipped_total (exactly: evaluated + skipped = ticks x rules), and no
 *    rule is starved: a group cut by its timeout starts the next evaluation where it stopped, so
 *    every one of the 10,000 rules gets evaluated (before, rules after ~80 per group never were);
 *  - a timeout is reported as a timeout (log and metric reason), and agentdrift_clickhouse_up stays 1
 *    because ClickHouse answered.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsUrlOf, runCli, startCli, type LiveProcess } from '../helpers/cli.js';
import { DEMO_END_ISO } from '../helpers/demo.js';
import { waitUntil } from '../helpers/process.js';

const FILES = 10;
const RULES_PER_FILE = 1000;
const TOTAL = FILES * RULES_PER_FILE;

/** One group of `n` rules; every rule distinct (name, signal, threshold), all on real demo data. */
function ruleFile(f: number, n: number, where = '{ environment: prod, workflow_id: lead_scoring }', interval = '3s', prefix = 'R'): string {
  const signals = ['tool_calls_per_run', 'policy_activation_rate', 'cost_per_success', 'output_schema_shift'];
  // 2 s: far less than 1,000 rules need, and room for a group's first query while ten groups' queries
  // share the embedded engine on a loaded machine (at 1 s, a loaded CI machine had groups that never
  // got past their first rule).
  const out = ['groups:', `  - name: g${f}`, `    interval: ${interval}`, '    timeout: 2s', '    rules:'];
  for (let r = 0; r < n; r++) {
    const signal = signals[r % signals.length]!;
    out.push(
      `      - alert: ${prefix}${f}_${r}`,
      `        signal: ${signal}`,
      // One series per rule: 10k series of state, as 10k rules over one workflow each would have.
      `        where: ${where}`,
      // A window of its own per rule (7 days less r minutes): no two rules share a query, so a
      // group's 1,000 rules take far longer than its timeout on any machine.
      `        window: ${7 * 24 * 60 - r}m`,
      `        threshold: ${signal === 'output_schema_shift' ? '0.3' : `${20 + (r % 50)}%`}`,
      '        min_runs: 50',
      '        labels: { severity: info }',
    );
  }
  return `${out.join('\n')}\n`;
}

interface Metrics {
  readonly samples: Map<string, number>;
  sum(name: string, match?: Record<string, string>): number;
}

async function scrape(url: string): Promise<Metrics> {
  const text = await (await fetch(url, { signal: AbortSignal.timeout(20_000) })).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    samples.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return {
    samples,
    sum(name, match = {}) {
      let total = 0;
      for (const [k, v] of samples) {
        if (k !== name && !k.startsWith(`${name}{`)) continue;
        if (Object.entries(match).every(([l, val]) => k.includes(`${l}="${val}"`))) total += v;
      }
      return total;
    },
  };
}

/** Probes /healthz every 25 ms; reports the slowest answer (the longest the loop was unavailable). */
function probeHealth(base: string): { stop(): Promise<{ maxMs: number; probes: number; failures: number }> } {
  let running = true;
  let maxMs = 0;
  let probes = 0;
  let failures = 0;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
        await r.text();
        if (r.status !== 200) failures++;
      } catch {
        failures++;
      }
      maxMs = Math.max(maxMs, performance.now() - t0);
      probes++;
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { maxMs, probes, failures };
    },
  };
}

describe('fault: ten thousand rules', () => {
  let dir: string;
  let daemon: LiveProcess;
  let metricsUrl: string;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentdrift-10k-'));
    const seed = runCli(['demo', 'seed', '--clickhouse', `chdb:${join(dir, 'data')}`, '--end', DEMO_END_ISO, '--days', '15', '--runs-per-day', '600'], dir);
    expect(seed.code, seed.stderr).toBe(0);
    // 1,000 rules are about 200 KiB: a 10k-rule set is ten files under the 1 MiB per-file limit.
    mkdirSync(join(dir, 'rules'));
    for (let f = 0; f < FILES; f++) writeFileSync(join(dir, 'rules', `rules-${f}.yaml`), ruleFile(f, RULES_PER_FILE));
    writeFileSync(
      join(dir, 'agentdrift.yaml'),
      `clickhouse: { target: "chdb:${join(dir, 'data')}" }
rules: ["${join(dir, 'rules')}"]
state_file: "${join(dir, 'state', 'state.json')}"
listen: 127.0.0.1:0
rollup: { enabled: false }
`,
    );
    daemon = startCli(['start', '-c', join(dir, 'agentdrift.yaml'), '--now', DEMO_END_ISO], dir);
    metricsUrl = await metricsUrlOf(daemon, 90_000);
    base = metricsUrl.replace(/\/metrics$/, '');
  }, 110_000);

  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      const t = setTimeout(() => daemon.child.kill('SIGKILL'), 20_000);
      await daemon.exited;
      clearTimeout(t);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('evaluates every rule or counts its skip, starves none, and reports timeouts as timeouts', async () => {
    const m0 = await scrape(metricsUrl);
    expect(m0.sum('agentdrift_rules_loaded')).toBe(TOTAL);
    let lastCounts: number[] = [];
    const evaluatedIn = (s: Metrics, f: number) => s.sum('agentdrift_rule_evaluations_total', { group: `g${f}` });
    // Enough rule evaluations per group (each evaluation reaches only a few before its timeout) that
    // a group has had to go past where its first evaluation stopped.
    const m = await waitUntil(
      async () => {
        const s = await scrape(metricsUrl);
        lastCounts = Array.from({ length: FILES }, (_, f) => evaluatedIn(s, f));
        const timeouts = s.sum('agentdrift_rule_evaluations_skipped_total', { reason: 'timeout' });
        // At least three completed evaluations per group and three rules evaluated: on a fast machine
        // an evaluation reaches several rules (three evaluations then reach three times as many), on
        // a loaded one perhaps none or one; either way a group has had to go past where one
        // evaluation stopped, which only rotation makes distinct rules.
        const enough = (f: number) => evaluatedIn(s, f) >= 3 && s.sum('agentdrift_group_evaluations_total', { group: `g${f}` }) >= 3;
        return timeouts > 0 && Array.from({ length: FILES }, (_, f) => enough(f)).every(Boolean) ? s : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 1_000, describe: () => `every group evaluating, with timeouts (rule evaluations per group: ${lastCounts.join(',')}); last lines:\n${daemon.lines.slice(-5).join('\n')}` },
    );

    for (let f = 0; f < FILES; f++) {
      const group = { group: `g${f}` };
      const ticks = m.sum('agentdrift_group_evaluations_total', group) + m.sum('agentdrift_group_skipped_evaluations_total', group);
      const skipped = m.sum('agentdrift_rule_evaluations_skipped_total', group);
      // Each scheduled evaluation of each rule is accounted for, one way or the other.
      expect(evaluatedIn(m, f) + skipped, `group g${f}`).toBe(ticks * RULES_PER_FILE);
    }
    // The timeout cuts evaluations: that shows as skips with reason timeout, not as an outage.
    expect(m.sum('agentdrift_clickhouse_up')).toBe(1);
    const timeoutLogs = daemon.lines.filter((l) => l.includes('"reason":"timeout"') && l.includes('timed out'));
    expect(timeoutLogs.length).toBeGreaterThan(0);
    expect(daemon.lines.filter((l) => /unreachable|ClickHouse is down/i.test(l))).toEqual([]);

    // No rule starved: each evaluation of a group continues where the last one stopped, so the
    // distinct rules evaluated are as many as the evaluations done (up to the group's size). Without
    // that, they stay at what the first evaluation reached however many evaluations follow.
    // The counter counts a group's rule evaluations when the group evaluation ends, /alerts shows them
    // as they happen: the upper bound comes from a scrape after every evaluation in flight when
    // /alerts answered has ended. Evaluations of a group run one at a time, so two completions after
    // a scrape taken before /alerts cover the one in flight then and the one that may have started since.
    const completed = (s: Metrics, f: number) => s.sum('agentdrift_group_evaluations_total', { group: `g${f}` });
    const before = await scrape(metricsUrl);
    const alerts = (await (await fetch(`${base}/alerts`, { signal: AbortSignal.timeout(30_000) })).json()) as { alertname: string; last_evaluation: string | null }[];
    const after = await waitUntil(
      async () => {
        const s = await scrape(metricsUrl);
        return Array.from({ length: FILES }, (_, f) => completed(s, f) >= completed(before, f) + 2).every(Boolean) ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, describe: () => 'two more completed evaluations of every group' },
    );
    for (let f = 0; f < FILES; f++) {
      const distinct = new Set(alerts.filter((a) => a.last_evaluation !== null && a.alertname.startsWith(`R${f}_`)).map((a) => a.alertname)).size;
      expect(distinct, `group g${f}`).toBeGreaterThanOrEqual(Math.min(RULES_PER_FILE, evaluatedIn(m, f)));
      expect(distinct, `group g${f}`).toBeLessThanOrEqual(Math.min(RULES_PER_FILE, evaluatedIn(after, f)));
    }
  }, 280_000);

  it('answers /healthz promptly throughout a 10k-rule reload', async () => {
    // A new set of 10k rules that match no runs: what is measured is loading and validating them,
    // not evaluations (whose state saves are another matter, not measured here).
    const reloaded = (await scrape(metricsUrl)).sum('agentdrift_rule_reloads_total', { result: 'success' });
    for (let f = 0; f < FILES; f++) writeFileSync(join(dir, 'rules', `rules-${f}.yaml`), ruleFile(f, RULES_PER_FILE, '{ environment: nowhere }', '1h', 'N'));
    await waitUntil(async () => (await scrape(metricsUrl)).sum('agentdrift_rule_reloads_total', { result: 'success' }) > reloaded || undefined, { timeoutMs: 60_000, intervalMs: 500, describe: 'rules reloaded on file change' });
    await new Promise((r) => setTimeout(r, 5_000));
    const probe = probeHealth(base);
    const reloadsBefore = (await scrape(metricsUrl)).sum('agentdrift_rule_reloads_total', { result: 'success' });
    const t0 = performance.now();
    daemon.child.kill('SIGHUP');
    await waitUntil(async () => (await scrape(metricsUrl)).sum('agentdrift_rule_reloads_total', { result: 'success' }) > reloadsBefore, {
      timeoutMs: 90_000,
      intervalMs: 200,
      describe: 'the reload to finish',
    });
    const reloadMs = performance.now() - t0;
    const { maxMs, probes, failures } = await probe.stop();
    console.log(`10k-rule reload: ${Math.round(reloadMs)} ms, ${probes} /healthz probes, slowest ${Math.round(maxMs)} ms`);
    expect(failures).toBe(0);
    // Before the worker-thread load the slowest probe waited for the whole load, ~10 s; with it,
    // 42 ms on a quiet machine, 289 ms once in CI with other suites running beside it. The bound is
    // what separates the two designs (a load on the event loop), not a latency target: that is
    // measured by the benchmarks, not here.
    expect(maxMs).toBeLessThan(2_000);
    expect(probes).toBeGreaterThan(reloadMs / 200);
  }, 120_000);
});
