#!/usr/bin/env node
// `npm run bench`: evaluation cost against the number of runs. For each size (1M, 10M, 100M runs over
// 28 days; BENCH_SIZES to change) a store is generated once (bench/generate.js, kept under BENCH_DIR
// and reused), the aggregate tables are backfilled by `migrate`, and then, in one process per size,
// interleaved over BENCH_REPS repetitions:
//   floor            a scan of one Float64 column over the 14 days the 7-day rules read
//   cycle            one full cycle of the default rules (both groups), reading the aggregates, each
//                    group at its last tick at or before AT (a daemon's ticks sit on whole 5 minutes)
//   cycle_start      the first evaluation of a daemon started at AT: each group at its start run
//                    (engine/scheduler.ts startRunAt: the last whole 5 minutes for these groups)
//   cycle_offgrid    the same cycle at AT itself (off the 5-minute grid): what `eval --at` at such a
//                    time does: window edges re-read from agent_runs
//   cycle_raw        the cycle with the aggregates disabled (agent_runs only)
// plus the first cycle of a fresh process (cold: the `for` replays a new daemon does included), a
// 14-day backtest at a 1 h step (as --step runs it, on whole 5 minutes; and off that grid, the worst case), peak RSS and JS heap, and the rows ClickHouse's index analysis says
// a cycle reads (EXPLAIN ESTIMATE; chDB reports no bytes read). A separate process per measurement
// set keeps one chDB engine per process. Then every series of the default rules whose condition
// holds at that time is explained (bench/explain.js: onset, what moved, attribution, first sightings,
// example runs), each query kind timed. Then the cost of grouping by a custom attribute
// (`attribute`): two rules (error_rate, duration p95; 7-day windows, as the default rules) grouped by
// [workflow_id, attributes.customer_tier], evaluated with that key pre-aggregated (the store's
// aggregates rebuilt with attributes.customer_tier in aggregates.dimensions, the backfill timed) and
// ad hoc (the same store read as if the key were not configured: the rules' windows come from
// agent_runs), next to the same rules grouped by workflow_id alone, the floor and the default cycle on
// the aggregates with that dimension, interleaved; afterwards the store's aggregates go back to the
// default dimensions. Insert throughput without the aggregates' views, with them (ClickHouse's default, views in turn) and with them and
// parallel_view_processing (INGEST_SETTINGS_SQL, as agentdrift's own inserts run) is
// measured on fresh stores. Figures go to bench/results/results.json and are printed as a table.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATOR_VERSION, generateRuns } from './generate.js';
import { RESULTS_DIR, benchMeta } from './meta.js';
import { generateBenchStore, mb, median, openBenchStore, peakRssBytes } from './store.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const SIZES = (process.env.BENCH_SIZES ?? '1000000,10000000,100000000').split(',').filter(Boolean).map(Number);
// Earlier sizes' figures to carry over (a file written by a previous run's bench/results/results.partial.json).
const CARRY = process.env.BENCH_CARRY ? JSON.parse(readFileSync(process.env.BENCH_CARRY, 'utf8')) : [];
const REPS = Number(process.env.BENCH_REPS ?? 5);
const BENCH_DIR = process.env.BENCH_DIR ?? join(tmpdir(), 'agentdrift-bench');
const INSERT_RUNS = Number(process.env.BENCH_INSERT_RUNS ?? 2_000_000);
const INSERT_REPS = Number(process.env.BENCH_INSERT_REPS ?? 3);
const EXPLAIN_REPEATS = Number(process.env.BENCH_EXPLAIN_REPEATS ?? 3);
// Which parts to measure: a part left out keeps its figures from the existing bench/results/results.json
// (e.g. BENCH_PARTS=explain adds the explanation costs to the stores measured before).
const PARTS = new Set((process.env.BENCH_PARTS ?? 'measure,explain,attribute,insert').split(',').filter(Boolean));
// Off the hour and the 5-minute grid, as the time of a daemon's start (its first evaluation) is; the
// cycle's groups evaluate at their last tick before it.
const AT = Date.parse('2026-11-22T03:17:42Z');
const END = Date.parse('2026-11-22T03:00:00Z') + 3_600_000;
const DAY = 86_400_000;
const MIN = 60_000;
// The attribute the `attribute` part groups by (bench/generate.js writes it, 4 values), and the
// aggregates' dimensions with it pre-aggregated.
const ATTRIBUTE = 'attributes.customer_tier';
/** Two rules of new signals grouped by `by`, in a group of their own (a rule's SQL depends only on its filter, grouping and windows: both share one query pair). */
const attributeRules = (name, by) => `groups:
  - name: ${name}
    interval: 5m
    rules:
      - alert: ${name.replace(/[^A-Za-z0-9]/g, '_')}_errors
        signal: error_rate
        where: { environment: prod }
        group_by: [${by.join(', ')}]
        window: 7d
        baseline: { previous: 7d }
        threshold: 20%
        min_runs: 200
        significance: 0.05
      - alert: ${name.replace(/[^A-Za-z0-9]/g, '_')}_p95
        signal: duration
        stat: p95
        where: { environment: prod }
        group_by: [${by.join(', ')}]
        window: 7d
        baseline: { previous: 7d }
        threshold: 20%
        min_runs: 200
        significance: 0.05
`;

const open = openBenchStore;

/** A measured store: open, with the default rules and its aggregate tables (null if none are ready). */
async function openWithRules(dir) {
  const { loadRuleFiles } = await import('../dist/rules/load.js');
  const { findAggregates } = await import('../dist/store/aggregatesMigrate.js');
  const { AGGREGATE_DEFAULTS } = await import('../dist/store/aggregates.js');
  const store = await open(dir);
  const { ruleSet } = await loadRuleFiles([join(here, '../rules/default.yaml')]);
  return { ...store, ruleSet, source: await findAggregates(store.ch, store.names, AGGREGATE_DEFAULTS) };
}

const stderr = (s) => process.stderr.write(`${s}\n`);
// --- child: generate a store of N runs (raw only), then migrate = backfill the aggregates ---------
if (process.argv[2] === '--generate') {
  await generateBenchStore(process.argv[4], Number(process.argv[3]), END);
  process.exit(0);
}

// --- child: bring a reused store's aggregates up to date (a new aggregates version rebuilds them) --
if (process.argv[2] === '--migrate') {
  const dir = process.argv[3];
  const { migrate } = await import('../dist/store/migrate.js');
  const { terminalProgress } = await import('../dist/util/progress.js');
  const { aggregatesStatus } = await import('../dist/store/aggregatesMigrate.js');
  const { AGGREGATE_DEFAULTS } = await import('../dist/store/aggregates.js');
  const { ch, names } = await open(dir);
  const t0 = performance.now();
  const steps = await migrate(ch, names, { aggregates: AGGREGATE_DEFAULTS, progress: terminalProgress(process.stderr, 'backfilling the aggregates', 'runs') });
  const rebuilt = steps.some((s) => s.object.includes('_agg_') && (s.action === 'created' || s.action === 'updated'));
  if (rebuilt) {
    const st = await aggregatesStatus(ch, names);
    const metaPath = join(dir, 'bench-store.json');
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    writeFileSync(metaPath, JSON.stringify({
      ...meta, backfill_seconds: +((performance.now() - t0) / 1000).toFixed(1),
      aggregate_rows: st.tables.reduce((s, t) => s + t.rows, 0), aggregate_mb: mb(st.tables.reduce((s, t) => s + t.bytes, 0)),
    }));
  }
  await ch.close();
  process.exit(0);
}

// --- child: measure one size --------------------------------------------------------------------
if (process.argv[2] === '--measure') {
  const { Engine } = await import('../dist/engine/engine.js');
  const { StoreSums } = await import('../dist/signals/sums.js');
  const { backtest } = await import('../dist/engine/backtest.js');
  const { ManualClock } = await import('../dist/util/clock.js');
  const { silentLogger } = await import('../dist/log.js');
  const { startRunAt, tickAtOrBefore } = await import('../dist/engine/scheduler.js');
  const { ch, table, ruleSet, source } = await openWithRules(process.argv[3]);
  // Where a running daemon evaluates each group: its last tick at or before AT (the default rules'
  // groups run on intervals; a cron group would be evaluated at AT).
  const tickOf = (g) => (g.schedule.kind === 'interval' ? tickAtOrBefore(g.name, g.schedule.everyMs, AT) : AT);
  // A daemon started at AT: each group's start run (startRunAt); and AT itself, off the grid.
  const startOf = (g) => startRunAt(g, AT);
  const offGrid = () => AT;
  if (!source) throw new Error('bench store has no ready aggregates');
  let heapPeak = 0;
  const sampleHeap = () => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed));
  const heapTimer = setInterval(sampleHeap, 20);

  const seen = new Map();
  const engineWith = (aggregates) =>
    new Engine({
      sums: new StoreSums({
        query: (sql, params) => {
          seen.set(`${sql}\u0000${JSON.stringify(params)}`, { sql, params });
          return ch.query(sql, params);
        },
        table,
        aggregates: () => aggregates,
      }),
      clock: new ManualClock(AT),
      logger: silentLogger,
    });
  const cycle = async (engine, atOf = tickOf) => {
    const t0 = performance.now();
    for (const g of ruleSet.groups) await engine.evaluateGroup(g, atOf(g));
    sampleHeap();
    return performance.now() - t0;
  };
  const floor = async () => {
    const t0 = performance.now();
    await ch.query(`SELECT sum(token_cost_usd) AS s FROM ${table} WHERE timestamp >= fromUnixTimestamp64Milli({lo:Int64}) AND timestamp < fromUnixTimestamp64Milli({hi:Int64})`, {
      lo: AT - 14 * DAY,
      hi: AT,
    });
    return performance.now() - t0;
  };

  const withAgg = engineWith(source);
  withAgg.adoptRuleSet(ruleSet);
  const cold = await cycle(withAgg, startOf); // a fresh process at its start: includes the `for` replays a new daemon does
  const raw = engineWith(null);
  raw.adoptRuleSet(ruleSet);
  await cycle(raw, (g) => tickOf(g)); // its replays, untimed, at a tick none of the repetitions uses
  const t = { floor: [], cycle: [], cycle_start: [], cycle_offgrid: [], cycle_raw: [] };
  // Each evaluation at a time of its own, as a daemon's ticks are (it never evaluates a tick twice,
  // and groups due at one tick share their reads: signals/sharedReads.ts): repetition i 20 minutes
  // before the one after it, the first 20 minutes before the fresh process's first cycle; within it,
  // the start run 5 minutes and the off-grid time 10 minutes earlier.
  const before = (atOf, ms) => (g) => atOf(g) - ms;
  for (let i = 0; i < REPS; i++) {
    const shift = (i + 1) * 20 * MIN;
    t.floor.push(await floor());
    seen.clear();
    t.cycle.push(await cycle(withAgg, before(tickOf, shift)));
    const cycleQueries = [...seen.values()];
    t.cycle_start.push(await cycle(withAgg, (g) => startRunAt(g, AT - shift - 5 * MIN)));
    t.cycle_offgrid.push(await cycle(withAgg, before(offGrid, shift + 10 * MIN)));
    t.cycle_raw.push(await cycle(raw, before(tickOf, shift)));
    if (i === 0) t.queries = cycleQueries;
  }
  // What the index analysis says a cycle reads, with and without the aggregates.
  const estimate = async (qs) => {
    let rows = 0;
    for (const q of qs) {
      for (const r of await ch.query(`EXPLAIN ESTIMATE ${q.sql}`, q.params)) rows += Number(r.rows);
    }
    return rows;
  };
  seen.clear();
  await cycle(raw, (g) => tickOf(g) - ((REPS + 1) * 20 + 5) * MIN);
  const rawQueries = [...seen.values()];
  const rowsRead = await estimate(t.queries);
  const rowsReadRaw = await estimate(rawQueries);

  // A 14-day backtest of the default rules at a 1 h step, on the aggregates. The heap is reported for
  // the cycles (what a daemon does) and for the backtest (a CLI command) apart, and as their maximum.
  sampleHeap();
  const cyclesHeapPeak = heapPeak;
  heapPeak = 0;
  const b0 = performance.now();
  const replay = { query: (sql, params) => ch.query(sql, params), table, aggregates: source, rules: ruleSet, fromMs: AT - 14 * DAY, toMs: AT, stepMs: 3_600_000 };
  const bt = await backtest(replay);
  const backtestSeconds = (performance.now() - b0) / 1000;
  // The same replay at AT - 14d exactly (off the 5-minute grid, as --step no longer starts): every
  // window edge re-read from agent_runs, the worst case.
  const b1 = performance.now();
  await backtest({ ...replay, alignStep: false });
  const backtestOffGridSeconds = (performance.now() - b1) / 1000;
  sampleHeap();
  clearInterval(heapTimer);
  const [{ runs }] = await ch.query(`SELECT count() AS runs FROM ${table}`);
  await ch.close();
  process.stdout.write(JSON.stringify({
    runs: Number(runs),
    floor_ms: +median(t.floor).toFixed(1),
    cycle_ms: +median(t.cycle).toFixed(1),
    cycle_at: ruleSet.groups.map((g) => ({ group: g.name, at: new Date(tickOf(g)).toISOString() })),
    cycle_start_ms: +median(t.cycle_start).toFixed(1),
    cycle_start_to_floor: +(median(t.cycle_start) / median(t.floor)).toFixed(3),
    cycle_offgrid_ms: +median(t.cycle_offgrid).toFixed(1),
    cycle_cold_ms: +cold.toFixed(1),
    cycle_cold_to_floor: +(cold / median(t.floor)).toFixed(3),
    cycle_raw_ms: +median(t.cycle_raw).toFixed(1),
    cycle_to_floor: +(median(t.cycle) / median(t.floor)).toFixed(3),
    raw_to_floor: +(median(t.cycle_raw) / median(t.floor)).toFixed(2),
    queries_per_cycle: t.queries.length,
    rows_read_per_cycle: rowsRead,
    rows_read_per_cycle_raw: rowsReadRaw,
    backtest_14d_1h_seconds: +backtestSeconds.toFixed(2),
    backtest_14d_1h_offgrid_seconds: +backtestOffGridSeconds.toFixed(2),
    backtest_group_evaluations: bt.evaluations ?? null,
    heap_peak_mb: mb(Math.max(cyclesHeapPeak, heapPeak)),
    heap_peak_cycles_mb: mb(cyclesHeapPeak),
    heap_peak_backtest_mb: mb(heapPeak),
    rss_peak_mb: mb(peakRssBytes()),
    samples: { floor_ms: t.floor.map((x) => +x.toFixed(1)), cycle_ms: t.cycle.map((x) => +x.toFixed(1)), cycle_start_ms: t.cycle_start.map((x) => +x.toFixed(1)), cycle_offgrid_ms: t.cycle_offgrid.map((x) => +x.toFixed(1)), cycle_raw_ms: t.cycle_raw.map((x) => +x.toFixed(1)) },
  }));
  process.exit(0);
}

// --- child: explain every active series of the default rules (bench/explain.js's measureExplain) ---
if (process.argv[2] === '--explain') {
  const { measureExplain } = await import('./explain.js');
  const { ch, table, ruleSet, source } = await openWithRules(process.argv[3]);
  const t0 = performance.now();
  const figures = await measureExplain({ ch, table, ruleSet, at: AT, repeats: EXPLAIN_REPEATS, aggregates: source });
  await ch.close();
  process.stdout.write(JSON.stringify({ repeats: EXPLAIN_REPEATS, seconds: +((performance.now() - t0) / 1000).toFixed(1), ...figures }));
  process.exit(0);
}

// --- child: rebuild a store's aggregates with the attribute among their dimensions (timed) --------
if (process.argv[2] === '--migrate-attribute') {
  const dir = process.argv[3];
  const { migrate } = await import('../dist/store/migrate.js');
  const { terminalProgress } = await import('../dist/util/progress.js');
  const { aggregatesStatus } = await import('../dist/store/aggregatesMigrate.js');
  const { DEFAULT_AGGREGATE_DIMENSIONS } = await import('../dist/store/aggregates.js');
  const { ch, names } = await open(dir);
  const t0 = performance.now();
  await migrate(ch, names, {
    aggregates: { enabled: true, dimensions: [...DEFAULT_AGGREGATE_DIMENSIONS, ATTRIBUTE] },
    progress: terminalProgress(process.stderr, `backfilling the aggregates with ${ATTRIBUTE}`, 'runs'),
  });
  const seconds = (performance.now() - t0) / 1000;
  const st = await aggregatesStatus(ch, names);
  await ch.close();
  process.stdout.write(JSON.stringify({
    backfill_seconds: +seconds.toFixed(1),
    aggregate_rows: st.tables.reduce((s, t) => s + t.rows, 0),
    aggregate_mb: mb(st.tables.reduce((s, t) => s + t.bytes, 0)),
  }));
  process.exit(0);
}

// --- child: the cost of grouping by an attribute, pre-aggregated and ad hoc ------------------------
if (process.argv[2] === '--measure-attribute') {
  const { Engine } = await import('../dist/engine/engine.js');
  const { StoreSums } = await import('../dist/signals/sums.js');
  const { ManualClock } = await import('../dist/util/clock.js');
  const { silentLogger } = await import('../dist/log.js');
  const { startRunAt, tickAtOrBefore } = await import('../dist/engine/scheduler.js');
  const { loadRuleFiles, parseRules } = await import('../dist/rules/load.js');
  const { findAggregates } = await import('../dist/store/aggregatesMigrate.js');
  const { DEFAULT_AGGREGATE_DIMENSIONS } = await import('../dist/store/aggregates.js');
  const { ch, table, names } = await open(process.argv[3]);
  const withAttr = await findAggregates(ch, names, { enabled: true, dimensions: [...DEFAULT_AGGREGATE_DIMENSIONS, ATTRIBUTE] });
  if (!withAttr) throw new Error(`bench store has no ready aggregates with ${ATTRIBUTE}`);
  // Ad hoc: the same tables, read by an engine told the default dimensions only (what a daemon whose
  // aggregates.dimensions leaves the key out sees): the attribute rules read agent_runs.
  const withoutAttr = { ...withAttr, dimensions: DEFAULT_AGGREGATE_DIMENSIONS };
  const { ruleSet: defaults } = await loadRuleFiles([join(here, '../rules/default.yaml')]);
  const parsed = parseRules([
    { file: 'bench-by-attribute.yaml', text: attributeRules('bench-by-attribute', ['workflow_id', ATTRIBUTE]) },
    { file: 'bench-by-workflow.yaml', text: attributeRules('bench-by-workflow', ['workflow_id']) },
  ]);
  if (!parsed.ruleSet) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  const [byAttr, byWf] = parsed.ruleSet.groups;
  const ruleSet = { groups: [...defaults.groups, byAttr, byWf] };
  const tickOf = (g) => tickAtOrBefore(g.name, g.schedule.everyMs, AT);
  const seen = new Map();
  const engineWith = (aggregates) => {
    const e = new Engine({
      sums: new StoreSums({
        query: (sql, params) => {
          seen.set(`${sql}\u0000${JSON.stringify(params)}`, { sql, params });
          return ch.query(sql, params);
        },
        table,
        aggregates: () => aggregates,
      }),
      clock: new ManualClock(AT),
      logger: silentLogger,
    });
    e.adoptRuleSet(ruleSet);
    return e;
  };
  const pre = engineWith(withAttr);
  const adhoc = engineWith(withoutAttr);
  const timed = async (engine, groups) => {
    seen.clear();
    const t0 = performance.now();
    for (const g of groups) await engine.evaluateGroup(g, tickOf(g));
    return { ms: performance.now() - t0, queries: [...seen.values()] };
  };
  const floor = async () => {
    const t0 = performance.now();
    await ch.query(`SELECT sum(token_cost_usd) AS s FROM ${table} WHERE timestamp >= fromUnixTimestamp64Milli({lo:Int64}) AND timestamp < fromUnixTimestamp64Milli({hi:Int64})`, { lo: AT - 14 * DAY, hi: AT });
    return performance.now() - t0;
  };
  // Untimed first evaluations (the `for` replays of a new engine; fills caches alike for all).
  await timed(pre, [...defaults.groups, byAttr, byWf]);
  await timed(adhoc, [byAttr]);
  const t = { floor: [], cycle: [], by_workflow: [], by_attribute_pre: [], by_attribute_adhoc: [] };
  const q = {};
  for (let i = 0; i < REPS; i++) {
    t.floor.push(await floor());
    for (const [k, engine, groups] of [['cycle', pre, defaults.groups], ['by_workflow', pre, [byWf]], ['by_attribute_pre', pre, [byAttr]], ['by_attribute_adhoc', adhoc, [byAttr]]]) {
      const r = await timed(engine, groups);
      t[k].push(r.ms);
      q[k] ??= r.queries;
    }
  }
  const estimate = async (qs) => {
    let rows = 0;
    for (const x of qs) for (const r of await ch.query(`EXPLAIN ESTIMATE ${x.sql}`, x.params)) rows += Number(r.rows);
    return rows;
  };
  // Whether the two paths agree: every series of the attribute rules, current and baseline, pre-aggregated and ad hoc.
  const values = (r) => new Map(r.evaluations.flatMap((e) => e.series.map((x) => [`${x.rule}|${JSON.stringify(x.labels)}|${x.key}`, [x.current, x.baseline, x.currentRuns]])));
  const va = values(await pre.evaluateGroup(byAttr, tickOf(byAttr)));
  const vb = values(await adhoc.evaluateGroup(byAttr, tickOf(byAttr)));
  let maxDiff = 0;
  let missing = 0;
  for (const [k, v] of va) {
    const w = vb.get(k);
    if (!w) missing++;
    else v.forEach((x, i) => { if (typeof x === 'number' && typeof w[i] === 'number') maxDiff = Math.max(maxDiff, Math.abs(x - w[i]) / Math.max(1e-12, Math.abs(x))); });
  }
  const [{ runs }] = await ch.query(`SELECT count() AS runs FROM ${table}`);
  const fig = {};
  for (const [k, xs] of Object.entries(t)) fig[`${k}_ms`] = +median(xs).toFixed(1);
  const rowsRead = {};
  for (const k of Object.keys(q)) rowsRead[k] = await estimate(q[k]);
  await ch.close();
  process.stdout.write(JSON.stringify({
    runs: Number(runs),
    attribute: ATTRIBUTE,
    dimensions: withAttr.dimensions,
    ...fig,
    by_attribute_pre_to_floor: +(median(t.by_attribute_pre) / median(t.floor)).toFixed(3),
    by_attribute_adhoc_to_floor: +(median(t.by_attribute_adhoc) / median(t.floor)).toFixed(3),
    adhoc_to_pre: +(median(t.by_attribute_adhoc) / median(t.by_attribute_pre)).toFixed(2),
    queries: Object.fromEntries(Object.entries(q).map(([k, v]) => [k, v.length])),
    rows_read: rowsRead,
    series_compared: { pre: va.size, adhoc: vb.size, missing_in_adhoc: missing, max_relative_diff: maxDiff },
    samples: Object.fromEntries(Object.entries(t).map(([k, xs]) => [`${k}_ms`, xs.map((x) => +x.toFixed(1))])),
  }));
  process.exit(0);
}

// --- child: insert throughput on a fresh store, with or without the aggregates' views ------------
if (process.argv[2] === '--insert') {
  // none: aggregates disabled; views: the aggregates' views, ClickHouse's default (views in turn);
  // parallel: the views with the INSERT's SETTINGS that agentdrift's own inserts carry.
  const [mode, dir] = [process.argv[3], process.argv[4]];
  const withViews = mode !== 'none';
  const { migrate } = await import('../dist/store/migrate.js');
  const { INGEST_SETTINGS_SQL } = await import('../dist/store/aggregates.js');
  const { ch, names, table } = await open(dir);
  await migrate(ch, names, withViews ? {} : { aggregates: { enabled: false, dimensions: [] } });
  const t0 = performance.now();
  // As dense in time as live ingest at the largest size (100M runs in 28 days is 3.6M a day), so the
  // views aggregate as many runs per bucket as they would in production.
  await generateRuns(ch, table, INSERT_RUNS, END, () => undefined, 500_000, INSERT_RUNS / 3_600_000, mode === 'parallel' ? INGEST_SETTINGS_SQL : '');
  const seconds = (performance.now() - t0) / 1000;
  await ch.close();
  process.stdout.write(JSON.stringify({ mode, runs: INSERT_RUNS, seconds: +seconds.toFixed(2), runs_per_second: Math.round(INSERT_RUNS / seconds) }));
  process.exit(0);
}

// --- parent ---------------------------------------------------------------------------------------
function child(args, { quiet = false } = {}) {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    if (quiet) process.stderr.write(r.stderr ?? '');
    throw new Error(`bench child ${args.join(' ')} failed (${r.status ?? r.signal})`);
  }
  return r.stdout.trim() ? JSON.parse(r.stdout) : null;
}

mkdirSync(BENCH_DIR, { recursive: true });
mkdirSync(RESULTS_DIR, { recursive: true });
const resultsPath = join(RESULTS_DIR, 'results.json');
const PREVIOUS = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : null;
// Each size is generated (or reused) and measured before the next is generated, so the small sizes'
// figures exist even while the largest store is still being written.
const results = [...CARRY];
for (const size of SIZES) {
  const dir = join(BENCH_DIR, `runs-${size}`);
  const meta = join(dir, 'bench-store.json');
  const ok = existsSync(meta) && JSON.parse(readFileSync(meta, 'utf8')).version === GENERATOR_VERSION;
  if (!ok) {
    rmSync(dir, { recursive: true, force: true });
    stderr(`bench: generating ${size} runs in ${dir} (kept for the next run) ...`);
    child(['--generate', String(size), dir]);
  } else {
    stderr(`bench: reusing ${dir}`);
    // A store generated under an earlier aggregates version is rebuilt (and its backfill timed) here.
    child(['--migrate', dir]);
  }
  const m0 = JSON.parse(readFileSync(meta, 'utf8'));
  const previous = PREVIOUS?.results.find((r) => r.runs === m0.runs);
  let m;
  if (PARTS.has('measure')) {
    stderr(`bench: measuring ${size} runs (${REPS} interleaved repetitions) ...`);
    m = child(['--measure', dir]);
  } else {
    m = previous;
    if (!m) throw new Error(`BENCH_PARTS leaves out measure, but bench/results/results.json has no figures for ${m0.runs} runs`);
  }
  let explain = m.explain ?? previous?.explain ?? null;
  if (PARTS.has('explain')) {
    stderr(`bench: explaining the active series at ${size} runs (${EXPLAIN_REPEATS} repetitions each) ...`);
    const { per_series: perSeries, ...e } = child(['--explain', dir]);
    explain = { ...e, per_series: perSeries.map(({ rule, labels, explain_ms_median, cause }) => ({ rule, labels, explain_ms_median, cause })) };
  }
  let attribute = m.attribute ?? previous?.attribute ?? null;
  if (PARTS.has('attribute')) {
    stderr(`bench: grouping by ${ATTRIBUTE} at ${size} runs: aggregates rebuilt with it, then ${REPS} interleaved repetitions ...`);
    const store = child(['--migrate-attribute', dir]);
    attribute = { store, ...child(['--measure-attribute', dir]) };
    stderr(`bench: back to the default dimensions ...`);
    child(['--migrate', dir]);
  }
  results.push({ ...m, generate_seconds: m0.generate_seconds, backfill_seconds: m0.backfill_seconds, aggregate_rows: m0.aggregate_rows, aggregate_mb: m0.aggregate_mb, explain, attribute });
  writeFileSync(join(RESULTS_DIR, 'results.partial.json'), `${JSON.stringify(results, null, 2)}\n`);
}

let insert = PREVIOUS?.insert ?? null;
if (PARTS.has('insert')) {
  stderr(`bench: insert throughput, ${INSERT_RUNS} runs, without and with the aggregates' views ...`);
  const inserts = [];
  const MODES = ['none', 'views', 'parallel'];
  for (let i = 0; i < INSERT_REPS; i++) {
    for (const mode of MODES) {
      const dir = mkdtempSync(join(tmpdir(), 'agentdrift-bench-insert-'));
      try {
        inserts.push(child(['--insert', mode, dir]));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const rate = (m) => median(inserts.filter((x) => x.mode === m).map((x) => x.runs_per_second));
  insert = {
    runs: INSERT_RUNS,
    repetitions: INSERT_REPS,
    runs_per_second_without_views: rate('none'),
    // ClickHouse's default: the block goes through the views one after another.
    runs_per_second_with_views_serial: rate('views'),
    // With INGEST_SETTINGS_SQL (parallel_view_processing), as agentdrift's inserts run and docs/data-contract.md
    // ("Ingest") asks of an operator's ingest.
    runs_per_second_with_views: rate('parallel'),
  };
  insert.with_to_without_serial = +(insert.runs_per_second_with_views_serial / insert.runs_per_second_without_views).toFixed(2);
  insert.with_to_without = +(insert.runs_per_second_with_views / insert.runs_per_second_without_views).toFixed(2);
}

const largest = results[results.length - 1];
const smallest = results[0];
const report = {
  meta: benchMeta(
    `evaluation cost against the number of runs (parts measured now: ${[...PARTS].join(', ')}): per store size (runs over 28 days, 20 workflows, embedded chDB), ` +
      `medians of ${REPS} interleaved repetitions of a one-column scan (floor), a cycle of the default rules on and off the 5-minute grid and without the aggregates, ` +
      'a fresh process\'s first cycle, a 14-day backtest at 1 h, peak heap and RSS, explanation query times; insert throughput without and with the aggregate views',
  ),
  date: new Date().toISOString(),
  // When the cycles were measured (a run with BENCH_PARTS leaving out measure keeps the older ones).
  measured_cycles_at: PARTS.has('measure') ? new Date().toISOString() : (PREVIOUS?.measured_cycles_at ?? PREVIOUS?.date ?? null),
  node: process.version,
  cpus: cpus().length,
  mem_gb: Math.round(totalmem() / 2 ** 30),
  evaluated_at: new Date(AT).toISOString(),
  repetitions: REPS,
  parts_measured: [...PARTS],
  cycle_to_floor: largest.cycle_to_floor,
  cycle_start_to_floor: largest.cycle_start_to_floor,
  cycle_cold_to_floor: largest.cycle_cold_to_floor,
  cycle_growth_smallest_to_largest: +(largest.cycle_ms / smallest.cycle_ms).toFixed(2),
  results,
  insert,
};
writeFileSync(resultsPath, `${JSON.stringify(report, null, 2)}\n`);
console.table(results.map(({ samples, explain, cycle_at, attribute, ...r }) => r));
console.table(results.map((r) => ({
  runs: r.runs, floor_ms: r.floor_ms, cycle_ms: r.cycle_ms,
  ...(r.attribute ? { attr_floor_ms: r.attribute.floor_ms, attr_cycle_ms: r.attribute.cycle_ms, by_workflow_ms: r.attribute.by_workflow_ms, by_attribute_pre_ms: r.attribute.by_attribute_pre_ms, by_attribute_adhoc_ms: r.attribute.by_attribute_adhoc_ms, adhoc_to_pre: r.attribute.adhoc_to_pre, attr_backfill_s: r.attribute.store.backfill_seconds, attr_agg_rows: r.attribute.store.aggregate_rows } : {}),
})));
console.table(results.map((r) => ({ runs: r.runs, series_explained: r.explain?.series_explained, explain_ms_median: r.explain?.explain_ms_median_over_series, explain_ms_max: r.explain?.explain_ms_max_over_series, ...Object.fromEntries(Object.entries(r.explain?.queries ?? {}).map(([k, q]) => [`${k}_ms`, q.median_ms])) })));
console.table([insert]);
console.log(`cycle_to_floor at ${largest.runs} runs: ${report.cycle_to_floor} (first evaluation after a start: ${report.cycle_start_to_floor}, with its \`for\` replays: ${report.cycle_cold_to_floor}); cycle growth ${smallest.runs} -> ${largest.runs}: ${report.cycle_growth_smallest_to_largest}x`);
