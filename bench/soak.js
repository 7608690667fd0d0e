#!/usr/bin/env node
// `npm run bench:soak`: does a long-running daemon stay flat? 500 rules in 50 groups (generated, the
// four signals over 7-day and 1-day windows) at a 1-minute interval for 30 minutes on the pinned demo
// (28 days x 6000 runs/day, ending 2026-11-22T03:00Z; the daemon's clock starts there with --now).
// The daemon runs as a child process (`agentdrift start`), as an operator runs it; every ~30 s its
// /metrics are scraped for RSS, JS heap, evaluations, skipped ticks (an evaluation still running when
// the next tick came: an overlap) and rule evaluations skipped for want of time. Figures go to
// bench/results/soak.json and a table on stdout. The goal: heap and RSS flat within noise after warm-up.
//
// Environment: SOAK_MINUTES (30), SOAK_INTERVAL (1m), SOAK_SAMPLE_SECONDS (30), SOAK_GROUPS (50),
// SOAK_RULES_PER_GROUP (10), SOAK_WARMUP_MINUTES (5), SOAK_OUT (bench/results/soak.json), SOAK_DIR (a temp dir).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, benchMeta } from './meta.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..');
const bin = join(root, 'bin', 'agentdrift.js');
const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const INTERVAL = process.env.SOAK_INTERVAL ?? '1m';
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 30) * 1000;
const GROUPS = Number(process.env.SOAK_GROUPS ?? 50);
const PER_GROUP = Number(process.env.SOAK_RULES_PER_GROUP ?? 10);
const WARMUP_MIN = Number(process.env.SOAK_WARMUP_MINUTES ?? Math.min(5, MINUTES / 3));
const OUT = process.env.SOAK_OUT ?? join(RESULTS_DIR, 'soak.json');
const DEMO_END = '2026-11-22T03:00:00Z';

const stderr = (s) => process.stderr.write(`${s}\n`);
const mb = (x) => (x === undefined ? null : +(x / 1048576).toFixed(1));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The rule file: GROUPS groups of PER_GROUP rules, each rule distinct (name, threshold, window). */
export function soakRules(groups, perGroup, interval) {
  const kinds = [
    { signal: 'tool_calls_per_run', direction: 'up' },
    { signal: 'policy_activation_rate', direction: 'both' },
    { signal: 'cost_per_success', direction: 'up' },
    { signal: 'output_schema_shift', direction: 'up', distance: true },
  ];
  const lines = ['groups:'];
  for (let g = 0; g < groups; g++) {
    lines.push(`  - name: soak-${String(g).padStart(3, '0')}`, `    interval: ${interval}`, '    rules:');
    for (let r = 0; r < perGroup; r++) {
      const k = kinds[(g + r) % kinds.length];
      const daily = (g * perGroup + r) % 2 === 1;
      lines.push(
        `      - alert: Soak_${g}_${r}`,
        `        signal: ${k.signal}`,
        '        where: { environment: prod }',
        '        group_by: [workflow_id]',
        `        window: ${daily ? '1d' : '7d'}`,
        `        baseline: ${daily ? '{ seasonal_weeks: 3 }' : '{ previous: 7d }'}`,
        `        threshold: ${k.distance ? (0.2 + (r % 10) / 100).toFixed(2) : `${20 + (r % 10)}%`}`,
        `        direction: ${k.direction}`,
        '        min_runs: 100',
        '        significance: 0.001',
        '        for: 10m',
        '        labels: { severity: warning, team: soak }',
        '        annotations:',
        '          summary: "{{ $labels.workflow_id }} {{ $value | percent }}"',
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Sums of every sample of each metric name in a Prometheus text exposition. */
function parseMetrics(text) {
  const sums = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) sums[m[1]] = (sums[m[1]] ?? 0) + v;
  }
  return sums;
}

async function main() {
  const dir = process.env.SOAK_DIR ?? mkdtempSync(join(tmpdir(), 'agentdrift-soak-'));
  mkdirSync(dir, { recursive: true });
  const data = join(dir, 'data');
  stderr(`soak: ${GROUPS} groups x ${PER_GROUP} rules at ${INTERVAL} for ${MINUTES} min in ${dir}`);

  const seed = spawnSync(process.execPath, [bin, 'demo', 'seed', '--clickhouse', `chdb:${data}`, '--end', DEMO_END, '--if-empty'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (seed.status !== 0) throw new Error(`demo seed failed (exit ${seed.status})`);

  const rulesFile = join(dir, 'soak-rules.yaml');
  writeFileSync(rulesFile, soakRules(GROUPS, PER_GROUP, INTERVAL));
  const port = await freePort();
  const config = join(dir, 'agentdrift.yaml');
  writeFileSync(config, [`clickhouse: { target: "chdb:${data}" }`, `rules: ["${rulesFile}"]`, `state_file: "${join(dir, 'state.json')}"`, `listen: 127.0.0.1:${port}`, 'log_level: warn', 'rollup: { enabled: false }', ''].join('\n'));

  const child = spawn(process.execPath, [bin, 'start', '-c', config, '--now', DEMO_END], { stdio: ['ignore', 'ignore', 'pipe'] });
  let logBytes = 0;
  const warnings = new Map();
  child.stderr.on('data', (b) => {
    logBytes += b.length;
    for (const line of b.toString().split('\n')) {
      const m = /"msg":"([^"]{0,80})/.exec(line);
      if (m) warnings.set(m[1].replace(/\d+/g, 'N'), (warnings.get(m[1].replace(/\d+/g, 'N')) ?? 0) + 1);
    }
  });
  let exited = null;
  child.on('exit', (code, sig) => (exited = { code, sig }));

  const url = `http://127.0.0.1:${port}/metrics`;
  // Generous: a daemon starved of CPU (the soak runs niced on a shared machine) answers late, and
  // how late is itself a figure (scrape_ms).
  const scrape = async () => parseMetrics(await (await fetch(url, { signal: AbortSignal.timeout(60_000) })).text());
  const startedAt = Date.now();
  for (;;) {
    if (exited) throw new Error(`daemon exited before serving: ${JSON.stringify(exited)}`);
    if (Date.now() - startedAt > 120_000) throw new Error('daemon did not serve /metrics within 2 minutes');
    try {
      await scrape();
      break;
    } catch {
      await sleep(500);
    }
  }

  const samples = [];
  const endAt = startedAt + MINUTES * 60_000;
  for (let next = Date.now(); ; next += SAMPLE_MS) {
    await sleep(Math.max(0, next - Date.now()));
    if (exited) throw new Error(`daemon exited during the soak: ${JSON.stringify(exited)}`);
    const probeStart = Date.now();
    let m;
    try {
      m = await scrape();
    } catch (err) {
      samples.push({ t_s: Math.round((Date.now() - startedAt) / 1000), error: String(err?.message ?? err), scrape_ms: Date.now() - probeStart });
      stderr(`soak: scrape failed: ${samples.at(-1).error}`);
      if (Date.now() >= endAt) break;
      continue;
    }
    samples.push({
      t_s: Math.round((Date.now() - startedAt) / 1000),
      rss_mb: mb(m.agentdrift_process_resident_memory_bytes),
      heap_used_mb: mb(m.agentdrift_nodejs_heap_size_used_bytes),
      heap_total_mb: mb(m.agentdrift_nodejs_heap_size_total_bytes),
      group_evaluations: m.agentdrift_group_evaluations_total ?? 0,
      group_failures: m.agentdrift_group_evaluation_failures_total ?? 0,
      overlaps: m.agentdrift_group_skipped_evaluations_total ?? 0,
      rule_evaluations_skipped: m.agentdrift_rule_evaluations_skipped_total ?? 0,
      clickhouse_up: m.agentdrift_clickhouse_up ?? null,
      scrape_ms: Date.now() - probeStart,
    });
    stderr(`soak: ${JSON.stringify(samples.at(-1))}`);
    if (Date.now() >= endAt) break;
  }
  child.kill('SIGTERM');
  await Promise.race([new Promise((r) => child.on('exit', r)), sleep(30_000)]);
  if (!exited) child.kill('SIGKILL');

  const ok = samples.filter((s) => s.error === undefined);
  const warm = ok.filter((s) => s.t_s >= WARMUP_MIN * 60);
  const stats = (key, xs) => {
    const v = xs.map((s) => s[key]).filter((x) => x !== null);
    return { first: v[0], last: v.at(-1), min: Math.min(...v), max: Math.max(...v) };
  };
  const last = ok.at(-1);
  // Linear fit of the post-warm-up samples: MB per hour, the drift a leak would show.
  const slope = (key) => {
    const pts = warm.map((s) => [s.t_s / 3600, s[key]]);
    const n = pts.length;
    if (n < 3) return null;
    const mx = pts.reduce((a, p) => a + p[0], 0) / n;
    const my = pts.reduce((a, p) => a + p[1], 0) / n;
    const sxx = pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
    return sxx === 0 ? null : +(pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / sxx).toFixed(2);
  };
  const result = {
    meta: benchMeta(
      `a long-running daemon (agentdrift start as a child process): ${GROUPS * PER_GROUP} rules in ${GROUPS} groups at ${INTERVAL} for ${MINUTES} minutes on the pinned demo, ` +
        `RSS, JS heap, evaluations, skipped ticks and rule evaluations sampled every ${SAMPLE_MS / 1000} s from /metrics`,
    ),
    generated: new Date().toISOString(),
    setup: { groups: GROUPS, rules: GROUPS * PER_GROUP, interval: INTERVAL, minutes: MINUTES, warmup_minutes: WARMUP_MIN, demo: '28 days x 6000 runs/day, ending 2026-11-22T03:00Z', node: process.version },
    summary: {
      rss_mb_after_warmup: stats('rss_mb', warm),
      heap_used_mb_after_warmup: stats('heap_used_mb', warm),
      rss_mb_per_hour_after_warmup: slope('rss_mb'),
      heap_used_mb_per_hour_after_warmup: slope('heap_used_mb'),
      group_evaluations: last.group_evaluations,
      group_evaluation_failures: last.group_failures,
      overlaps_skipped_ticks: last.overlaps,
      rule_evaluations_skipped: last.rule_evaluations_skipped,
      failed_scrapes: samples.length - ok.length,
      scrape_ms_max: Math.max(...samples.map((s) => s.scrape_ms)),
      daemon_log_bytes: logBytes,
      daemon_log_messages: Object.fromEntries([...warnings.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10)),
    },
    samples,
  };
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result.summary, null, 2));
  if (!process.env.SOAK_DIR) rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    stderr(`soak failed: ${err?.stack ?? err}`);
    process.exit(1);
  });
}
