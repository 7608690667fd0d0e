#!/usr/bin/env node
// `npm run bench:series`: how a cycle, a /metrics scrape, a state save and the daemon's heap grow with
// the number of alert series rather than runs (issue 27, item 4). For each fleet size (SERIES_WORKFLOWS,
// default 20,200,2000 workflows, each with 5 tools of its own and 3 tenants) a store of SERIES_RUNS runs
// (default 10M over 28 days, so that 2,000 workflows have enough runs each to be measured, not `nodata`;
// bench/generate.js with that fleet) is generated once under BENCH_DIR and
// reused, its aggregates backfilled by `migrate`; then, in one process per size, the default rules are
// evaluated as a daemon would (each group at its tick at or before AT): a fresh engine's first cycle (with
// its `for` replays), then SERIES_REPS cycles, each timed; the series the engine then holds; SERIES_REPS
// scrapes of the daemon's metrics registry reading that state (DriftMetrics.metricsText, as /metrics
// answers); SERIES_REPS saves of the state file as the state manager makes them (engine.snapshot() and
// DurableState.save, fsync included); the JS heap after the cycles (after a forced GC) and at its peak,
// and the process's peak RSS. Figures go to bench/results/series.json and a table on stdout.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATOR_VERSION } from './generate.js';
import { RESULTS_DIR, benchMeta } from './meta.js';
import { generateBenchStore, mb, median, openBenchStore, peakRssBytes } from './store.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const WORKFLOWS = (process.env.SERIES_WORKFLOWS ?? '20,200,2000').split(',').filter(Boolean).map(Number);
const RUNS = Number(process.env.SERIES_RUNS ?? 10_000_000);
const REPS = Number(process.env.SERIES_REPS ?? 5);
const BENCH_DIR = process.env.BENCH_DIR ?? join(tmpdir(), 'agentdrift-bench');
const OUT = process.env.SERIES_OUT ?? join(RESULTS_DIR, 'series.json');
const TOOLS = 5;
const TENANTS = 3;
// As in bench/run.js: off the 5-minute grid, each group evaluated at its last tick before it.
const AT = Date.parse('2026-11-22T03:17:42Z');
const END = Date.parse('2026-11-22T03:00:00Z') + 3_600_000;

const stderr = (s) => process.stderr.write(`${s}\n`);

// --- child: generate a fleet's store, then backfill its aggregates ---------------------------------
if (process.argv[2] === '--generate') {
  const [workflows, total, dir] = [Number(process.argv[3]), Number(process.argv[4]), process.argv[5]];
  await generateBenchStore(dir, total, END, { fleet: { workflows, tools: TOOLS, tenants: TENANTS }, extra: { workflows, tools: TOOLS, tenants: TENANTS } });
  process.exit(0);
}

// --- child: measure one fleet -----------------------------------------------------------------------
if (process.argv[2] === '--measure') {
  const dir = process.argv[3];
  const { Engine } = await import('../dist/engine/engine.js');
  const { StoreSums } = await import('../dist/signals/sums.js');
  const { ManualClock } = await import('../dist/util/clock.js');
  const { silentLogger } = await import('../dist/log.js');
  const { tickAtOrBefore } = await import('../dist/engine/scheduler.js');
  const { loadRuleFiles } = await import('../dist/rules/load.js');
  const { findAggregates } = await import('../dist/store/aggregatesMigrate.js');
  const { AGGREGATE_DEFAULTS } = await import('../dist/store/aggregates.js');
  const { DriftMetrics } = await import('../dist/metrics/registry.js');
  const { DurableState } = await import('../dist/persist/durableState.js');
  const { ch, names, table } = await openBenchStore(dir);
  const { ruleSet } = await loadRuleFiles([join(here, '../rules/default.yaml')]);
  const source = await findAggregates(ch, names, AGGREGATE_DEFAULTS);
  if (!source) throw new Error('bench store has no ready aggregates');
  let heapPeak = 0;
  const sampleHeap = () => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed));
  const heapTimer = setInterval(sampleHeap, 20);
  const tickOf = (g) => (g.schedule.kind === 'interval' ? tickAtOrBefore(g.name, g.schedule.everyMs, AT) : AT);

  const engine = new Engine({ sums: new StoreSums({ query: (sql, params) => ch.query(sql, params), table, aggregates: () => source }), clock: new ManualClock(AT), logger: silentLogger });
  engine.adoptRuleSet(ruleSet);
  // Each cycle at a tick of its own (a daemon never evaluates one twice; groups due at a tick share
  // their reads): the cold one at the tick, then one 5 minutes earlier per repetition.
  const cycle = async (before = 0) => {
    const t0 = performance.now();
    for (const g of ruleSet.groups) await engine.evaluateGroup(g, tickOf(g) - before);
    sampleHeap();
    return performance.now() - t0;
  };
  const cold = await cycle();
  const cycles = [];
  for (let i = 0; i < REPS; i++) cycles.push(await cycle((i + 1) * 300_000));
  const series = engine.alertStates.size;
  const byState = {};
  for (const s of engine.alertStates.values()) byState[s.record.state] = (byState[s.record.state] ?? 0) + 1;
  global.gc?.();
  const heapAfterCycles = process.memoryUsage().heapUsed;

  // /metrics: the daemon's registry reading the engine's state at scrape time (compose.ts).
  const metrics = new DriftMetrics();
  metrics.readStateFrom({ alertStates: engine.alertStates, rules: engine.rules, pendingNotifications: () => 0 });
  await metrics.metricsText();
  const scrapes = [];
  let scrapeBytes = 0;
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    scrapeBytes = (await metrics.metricsText()).length;
    scrapes.push(performance.now() - t0);
    sampleHeap();
  }

  // The state file as the state manager saves it after an evaluation.
  const stateDir = mkdtempSync(join(tmpdir(), 'agentdrift-series-state-'));
  const state = new DurableState({ path: join(stateDir, 'state.json'), logger: silentLogger, now: () => AT, fresh: true, lock: null });
  await state.open();
  const saves = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    await state.save({ alerts: engine.snapshot(), notifications: [] });
    saves.push(performance.now() - t0);
    sampleHeap();
  }
  const stateBytes = readFileSync(join(stateDir, 'state.json')).length;
  await state.close();
  rmSync(stateDir, { recursive: true, force: true });
  clearInterval(heapTimer);
  await ch.close();
  process.stdout.write(JSON.stringify({
    series,
    series_by_state: byState,
    cycle_cold_ms: +cold.toFixed(1),
    cycle_ms: +median(cycles).toFixed(1),
    scrape_ms: +median(scrapes).toFixed(1),
    scrape_kb: +(scrapeBytes / 1024).toFixed(0),
    state_save_ms: +median(saves).toFixed(1),
    state_kb: +(stateBytes / 1024).toFixed(0),
    heap_after_cycles_mb: mb(heapAfterCycles),
    heap_peak_mb: mb(heapPeak),
    rss_peak_mb: mb(peakRssBytes()),
    samples: { cycle_ms: cycles.map((x) => +x.toFixed(1)), scrape_ms: scrapes.map((x) => +x.toFixed(1)), state_save_ms: saves.map((x) => +x.toFixed(1)) },
  }));
  process.exit(0);
}

// --- parent --------------------------------------------------------------------------------------------
const self = fileURLToPath(import.meta.url);
const child = (args, expose = false) => {
  const r = spawnSync(process.execPath, [...(expose ? ['--expose-gc'] : []), self, ...args], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`bench child ${args[0]} failed (status ${r.status})`);
  return r.stdout.toString();
};
mkdirSync(BENCH_DIR, { recursive: true });
const results = [];
for (const workflows of WORKFLOWS) {
  const dir = join(BENCH_DIR, `series-${workflows}-${RUNS}`);
  const metaPath = join(dir, 'bench-store.json');
  const meta = existsSync(metaPath) ? JSON.parse(readFileSync(metaPath, 'utf8')) : null;
  if (meta?.version !== GENERATOR_VERSION || meta.runs !== RUNS || meta.workflows !== workflows) {
    rmSync(dir, { recursive: true, force: true });
    stderr(`series: generating ${RUNS} runs of ${workflows} workflows in ${dir}`);
    child(['--generate', String(workflows), String(RUNS), dir]);
  } else stderr(`series: reusing ${dir}`);
  stderr(`series: measuring ${workflows} workflows (${REPS} repetitions) ...`);
  results.push({ workflows, tools_per_workflow: TOOLS, tenants: TENANTS, runs: RUNS, ...JSON.parse(child(['--measure', dir], true)) });
}
const first = results[0];
const last = results[results.length - 1];
const growth = (k) => +(last[k] / first[k]).toFixed(2);
const report = {
  meta: benchMeta(
    `alert series against fleet size: the default rules over ${RUNS} runs (28 days, embedded chDB) of fleets of ${WORKFLOWS.join(', ')} workflows with ${TOOLS} tools each and ${TENANTS} tenants; ` +
      `medians of ${REPS} cycles at the ticks, /metrics scrapes (the daemon's registry) and state-file saves; JS heap after the cycles and at its peak, peak RSS`,
  ),
  growth_smallest_to_largest: { series: growth('series'), cycle_ms: growth('cycle_ms'), scrape_ms: growth('scrape_ms'), state_save_ms: growth('state_save_ms'), heap_after_cycles_mb: growth('heap_after_cycles_mb') },
  results,
};
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
console.table(results.map(({ samples, series_by_state, ...r }) => r));
console.log(`from ${first.workflows} to ${last.workflows} workflows: series x${report.growth_smallest_to_largest.series}, cycle x${report.growth_smallest_to_largest.cycle_ms}, scrape x${report.growth_smallest_to_largest.scrape_ms}, state save x${report.growth_smallest_to_largest.state_save_ms}`);
