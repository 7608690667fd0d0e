#!/usr/bin/env node
// `npm run bench:scrape`: what one /metrics scrape costs against the number of alert series. For each
// size (1k, 10k and 50k series by default; SCRAPE_SIZES to change) a child process builds a synthetic
// engine state over SCRAPE_RULES rules (100: uneven sizes, so the larger rules go over the per-rule cap
// of 500 and are ranked; every state, series measured and not, new keys, failed queries, accepted
// series, up to four dimension labels, a tool key, a few label values long enough to be hashed),
// hands it to a DriftMetrics registry (with the process and Node.js metrics, as the daemon has them)
// and times SCRAPE_REPS scrapes of `metricsText()` after SCRAPE_WARMUP warm-up ones, wall and CPU
// time: first with the state unchanged between scrapes (scrape_ms: scrapes come more often than
// evaluations), then with every series replaced before each scrape, as if every rule had been
// evaluated since the last one (scrape_after_evaluation_ms). Also: the series walks (iterations of
// the engine's alert state) per scrape, the text's size, a hash of its per-series part (equal hashes,
// equal text: compare two builds), and the JS heap (after the state is built, and the most seen right
// after a scrape; GC forced before each scrape with --expose-gc, as `npm run bench:scrape` runs it).
// Figures go to bench/results/scrape.json (SCRAPE_OUT) and a table on stdout.
//
// SCRAPE_DIST measures another build the same way (default dist/), e.g. the registry before a change:
//   git archive <commit> src tsconfig.json tsconfig.build.json package.json | tar -x -C <dir>
//   ln -s "$PWD/node_modules" <dir>/node_modules && (cd <dir> && npx tsc -p tsconfig.build.json)
//   SCRAPE_DIST=<dir>/dist SCRAPE_OUT=<file> node --expose-gc bench/scrape.js
// and SCRAPE_BEFORE=<file> carries that run into the next one's file (as `before`).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RESULTS_DIR, benchMeta } from './meta.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const SIZES = (process.env.SCRAPE_SIZES ?? '1000,10000,50000').split(',').filter(Boolean).map(Number);
const RULES = Number(process.env.SCRAPE_RULES ?? 100);
const REPS = Number(process.env.SCRAPE_REPS ?? 30);
const WARMUP = Number(process.env.SCRAPE_WARMUP ?? 5);
const DIST = resolve(process.env.SCRAPE_DIST ?? join(here, '..', 'dist'));
const OUT = process.env.SCRAPE_OUT ?? join(RESULTS_DIR, 'scrape.json');

const stderr = (s) => process.stderr.write(`${s}\n`);
const mb = (x) => +(x / 1048576).toFixed(1);
const ms = (x) => +x.toFixed(2);
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const median = (sorted) => (sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2);

const SIGNALS = ['tool_calls_per_run', 'policy_activation_rate', 'cost_per_success', 'output_schema_shift'];
const GROUP_BYS = [['workflow_id'], ['workflow_id', 'environment'], ['agent_id', 'agent_version', 'tenant_id'], ['workflow_id', 'model', 'prompt_version', 'outcome']];
const STATES = ['inactive', 'inactive', 'inactive', 'inactive', 'inactive', 'pending', 'firing', 'resolved', 'nodata', 'error'];

/** Deterministic pseudo-random numbers (mulberry32), so every run builds the same state. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many of `total` series rule i gets: uneven (weights 1..10), summing to total. */
function ruleSizes(total, rules) {
  const weights = Array.from({ length: rules }, (_, i) => (i % 10) + 1);
  const sum = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.floor((total * w) / sum));
  for (let i = 0, left = total - sizes.reduce((a, b) => a + b, 0); left > 0; i++, left--) sizes[i % rules]++;
  return sizes;
}

/** The rules and the engine's alert state: `total` series over `rules` rules. */
export function buildState(total, rules, { AlertStates, seriesId }) {
  const rnd = random(total);
  const ruleMap = new Map();
  const states = new AlertStates();
  const at = Date.parse('2026-11-22T03:00:00Z');
  const sizes = ruleSizes(total, rules);
  for (let r = 0; r < rules; r++) {
    const alert = `ScrapeBench_${String(r).padStart(3, '0')}`;
    const groupBy = GROUP_BYS[r % GROUP_BYS.length];
    const keyed = r % 3 === 0;
    ruleMap.set(alert, {
      alert,
      signal: SIGNALS[r % SIGNALS.length],
      where: {},
      groupBy,
      windowMs: 3_600_000,
      baseline: { kind: 'previous', lengthMs: 7 * 86_400_000, offsetMs: 0 },
      threshold: 0.2,
      direction: 'both',
      minRuns: 10,
      significance: 0.05,
      forMs: 120_000,
      options: {},
      labels: r % 5 === 4 ? {} : { severity: r % 2 ? 'page' : 'ticket' },
      annotations: {},
      pos: { file: 'bench.yaml', line: r + 1, col: 1 },
    });
    for (let i = 0; i < sizes[r]; i++) {
      const labels = {};
      for (const [j, c] of groupBy.entries()) labels[c] = `${c}_${(i >> (j * 3)) % 97}_${i}`;
      // One value in 200 is a runaway one (a generated id), bounded with a hash in the label.
      if (i % 200 === 7) labels[groupBy[0]] = `run-${'x'.repeat(150)}-${i}`;
      const key = keyed ? `tool_${i % 13}` : '';
      const state = STATES[Math.floor(rnd() * STATES.length)];
      const measured = state !== 'nodata' && rnd() > 0.05;
      const isNew = rnd() < 0.03;
      const deviation = isNew ? null : rnd() < 0.02 ? Number.NaN : (rnd() - 0.5) * 2;
      const baseline = 100 * rnd();
      const evidence = rnd() < 0.02 && !measured && state !== 'error' ? undefined : {
        current: rnd() < 0.02 ? null : baseline * (1 + (deviation ?? 0)),
        baseline: isNew ? null : baseline,
        deviation,
        isNew,
        currentRuns: Math.floor(rnd() * 1000),
        baselineRuns: Math.floor(rnd() * 10000),
        contributors: [],
        exampleRunIds: [],
        pValue: rnd() < 0.5 ? rnd() / 10 : null,
      };
      const id = seriesId(alert, keyed ? { ...labels, tool: key } : labels);
      const firing = state === 'firing';
      states.set(id, {
        id,
        alert,
        key,
        labels,
        record: {
          state,
          activeAt: state === 'pending' || firing ? at - 600_000 : null,
          firedAt: firing ? at - 300_000 : null,
          resolvedAt: state === 'resolved' ? at - 60_000 : null,
          lastEvalAt: at,
          health: state === 'error' ? 'error' : state === 'nodata' ? 'nodata' : 'ok',
          lastError: state === 'error' ? 'ClickHouse: timeout' : null,
        },
        ...(evidence ? { evidence } : {}),
        measured,
        ...(rnd() < 0.01 ? { accepted: { at: at - 86_400_000, reason: 'new normal', baseline, until: at + 6 * 86_400_000 } } : {}),
      });
    }
  }
  return { states, rules: ruleMap };
}

// Run as a script (not imported for buildState).
const main = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);

// --- child: one size, in a process of its own (a clean heap) ------------------------------------
if (main && process.argv[2] === '--child') {
  const total = Number(process.argv[3]);
  const { DriftMetrics, DEFAULT_MAX_SERIES_PER_RULE } = await import(pathToFileURL(join(DIST, 'metrics/registry.js')).href);
  const { AlertStates } = await import(pathToFileURL(join(DIST, 'alerting/state.js')).href);
  const { seriesId } = await import(pathToFileURL(join(DIST, 'alerting/types.js')).href);
  const gc = globalThis.gc ?? (() => {});
  const heap = () => process.memoryUsage().heapUsed;

  gc();
  const heapStart = heap();
  const { states, rules } = buildState(total, RULES, { AlertStates, seriesId });
  // Counts the walks of the alert state (each per-series gauge used to do its own).
  let walks = 0;
  const values = states.values;
  states.values = function countedValues() {
    walks++;
    return values.call(this);
  };
  const metrics = new DriftMetrics();
  metrics.readStateFrom({ alertStates: states, rules, pendingNotifications: () => 0 });
  gc();
  const heapState = heap();

  // As after every rule was evaluated again: each series a new object with a new label object, as
  // the engine's step makes them. A scrape then reuses nothing it keeps by object (a rule's text),
  // only what it keeps by series id and checks (label texts).
  const reevaluate = () => {
    for (const [id, s] of states) states.set(id, { ...s, labels: { ...s.labels }, record: { ...s.record } });
  };
  let text = '';
  for (let i = 0; i < WARMUP; i++) text = await metrics.metricsText();
  let heapMax = 0;
  /** REPS timed scrapes: wall and CPU time (all threads: the GC's helpers count) of each. */
  const timed = async (before) => {
    const wall = [];
    const cpu = [];
    for (let i = 0; i < REPS; i++) {
      before();
      gc();
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      text = await metrics.metricsText();
      wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      heapMax = Math.max(heapMax, heap());
    }
    return { wall: wall.sort((a, b) => a - b), cpu: cpu.sort((a, b) => a - b) };
  };
  const stats = (xs) => ({ median: ms(median(xs)), p95: ms(quantile(xs, 0.95)), max: ms(xs.at(-1)), min: ms(xs[0]) });
  walks = 0;
  const steady = await timed(() => {});
  const walksPerScrape = walks / REPS;
  const fresh = await timed(reevaluate);
  const exported = text.split('\n').filter((l) => l.startsWith('agentdrift_alert_state{')).length;
  const result = {
    series: total,
    rules: RULES,
    exported_series: exported,
    max_series_per_rule: DEFAULT_MAX_SERIES_PER_RULE,
    scrapes: REPS,
    warmup_scrapes: WARMUP,
    // The state unchanged since the previous scrape (scrapes come more often than evaluations).
    scrape_ms: stats(steady.wall),
    scrape_cpu_ms: stats(steady.cpu),
    // Every series replaced by an evaluation since the previous scrape.
    scrape_after_evaluation_ms: stats(fresh.wall),
    scrape_after_evaluation_cpu_ms: stats(fresh.cpu),
    series_walks_per_scrape: walksPerScrape,
    text_bytes: Buffer.byteLength(text),
    // The per-series families only (the process metrics differ from run to run): equal hashes, equal text.
    series_text_sha256: createHash('sha256')
      .update(text.split('\n').filter((l) => /^(# (HELP|TYPE) )?agentdrift_(signal|alert)_/.test(l)).join('\n'))
      .digest('hex'),
    text_lines: text.split('\n').length - 1,
    heap_mb: { before_state: mb(heapStart), with_state: mb(heapState), max_after_scrape: mb(heapMax) },
    gc_forced: globalThis.gc !== undefined,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

// --- parent: one child per size, then the table and the file -------------------------------------
if (main) parent();

function parent() {
  const load = [loadavg()];
  const results = [];
  for (const n of SIZES) {
    stderr(`scrape: ${n} series over ${RULES} rules, ${REPS} scrapes (${DIST})`);
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', String(n)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 24,
    });
    if (child.status !== 0) throw new Error(`scrape: the child for ${n} series failed (${child.status ?? child.signal})`);
    results.push(JSON.parse(child.stdout.trim().split('\n').at(-1)));
  }
  load.push(loadavg());

  const rows = results.map((r) => [
    r.series,
    r.exported_series,
    r.scrape_ms.median,
    r.scrape_ms.p95,
    r.scrape_ms.max,
    r.scrape_cpu_ms.median,
    r.scrape_after_evaluation_ms.median,
    r.scrape_after_evaluation_ms.p95,
    r.series_walks_per_scrape,
    +(r.text_bytes / 1048576).toFixed(1),
    r.heap_mb.with_state,
    r.heap_mb.max_after_scrape,
  ]);
  const head = ['series', 'exported', 'median ms', 'p95 ms', 'max ms', 'cpu ms', 'fresh median', 'fresh p95', 'walks', 'text MB', 'heap MB', 'heap max MB'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padStart(widths[i])).join('  ');
  process.stdout.write(`${[line(head), ...rows.map(line)].join('\n')}\n`);

  const what =
    `one /metrics scrape (DriftMetrics.metricsText(), process metrics included) of a synthetic engine state of ${SIZES.join(', ')} alert series ` +
    `over ${RULES} rules (uneven sizes, per-rule cap ${results[0]?.max_series_per_rule}; mixed states, evidence, labels); ${REPS} timed scrapes ` +
    `after ${WARMUP} warm-up ones per size with the state unchanged (scrape_ms), then ${REPS} with every series replaced before each ` +
    '(scrape_after_evaluation_ms), each size in its own process';
  const file = {
    meta: benchMeta(what),
    // The build measured (SCRAPE_DIST), and the machine's load (1, 5, 15 minutes) before and after.
    dist: process.env.SCRAPE_DIST ? DIST : 'dist',
    load_average: load.map((l) => l.map((x) => +x.toFixed(2))),
    results,
    // SCRAPE_BEFORE: an earlier run's file (another build, e.g. before a change), kept for comparison.
    ...(process.env.SCRAPE_BEFORE ? { before: JSON.parse(readFileSync(process.env.SCRAPE_BEFORE, 'utf8')) } : {}),
  };
  writeFileSync(OUT, `${JSON.stringify(file, null, 2)}\n`);
  stderr(`scrape: wrote ${OUT}`);
}
