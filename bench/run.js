#!/usr/bin/env node
// `npm run bench`: seeding throughput, evaluation latency and daemon memory versus the number of runs,
// and the span rollup's throughput (plain GenAI spans into agent_runs rows). Each measurement runs in
// a child process of its own (one chDB engine per process); figures go to bench/results.json and are
// printed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const sizes = (process.env.BENCH_RUNS_PER_DAY ?? '6000,36000').split(',').map(Number);
const rollupRunsPerDay = Number(process.env.BENCH_ROLLUP_RUNS_PER_DAY ?? '6000');

/** A fresh embedded store in `dir`, migrated. */
async function openBenchStore(dir) {
  const { openClickHouse } = await import('../dist/clickhouse/client.js');
  const { parseTarget } = await import('../dist/clickhouse/target.js');
  const { migrate } = await import('../dist/store/migrate.js');
  const { DEFAULT_NAMES } = await import('../dist/store/schema.js');
  const ch = await openClickHouse(parseTarget(`chdb:${dir}`), {});
  const names = { database: 'default', ...DEFAULT_NAMES };
  await migrate(ch, names);
  return { ch, names };
}

if (process.argv[2] === '--rollup') {
  // The demo as plain GenAI traces (about 7 spans a run), then the rollup timed on its own: a backfill
  // of the 28 days in one-day passes (what `agentdrift rollup` does), and the daemon's idle pass.
  const runsPerDay = Number(process.argv[3]);
  const { seedDemo } = await import('../dist/demo/seed.js');
  const { planDemo } = await import('../dist/demo/generate.js');
  const { rollupRange, runPass } = await import('../dist/rollup/pass.js');
  const { demoPrices } = await import('../dist/demo/scenario.js');
  const { ch, names } = await openBenchStore(process.argv[4]);
  const end = Date.parse('2026-11-22T03:00:00Z');
  const demo = { days: 28, runsPerDay, seed: 'bench', endMs: end, form: 'spans' };
  const plan = planDemo(demo);
  // seedDemo writes the spans, then rolls them up in one-day passes (what `agentdrift rollup` does):
  // it times the two apart.
  const seed = await seedDemo(ch, names, demo);
  const seedSeconds = (seed.elapsedMs - seed.rollup.elapsedMs) / 1000;
  // The same backfill again (every run already present: the anti-join path), and an idle daemon pass.
  const again = await rollupRange(ch, names, { fromMs: plan.startMs, toMs: end + 3_600_000, chunkMs: 86_400_000, mode: 'backfill', at: end, lookbackMs: 3_600_000, prices: demoPrices() });
  const idle = await runPass(ch, names, { fromMs: end + 7_200_000, toMs: end + 7_260_000, mode: 'schedule', at: end, lookbackMs: 3_600_000, prices: [] });
  await ch.close();
  const r = seed.rollup;
  process.stdout.write(
    JSON.stringify({
      runs_per_day: runsPerDay,
      runs: seed.inserted,
      spans: seed.spans,
      seed_spans_seconds: +seedSeconds.toFixed(2),
      rollup_passes: r.passes,
      rollup_seconds: +(r.elapsedMs / 1000).toFixed(2),
      rollup_spans_per_second: Math.round(seed.spans / (r.elapsedMs / 1000)),
      rollup_runs_per_second: Math.round(seed.inserted / (r.elapsedMs / 1000)),
      rerun_seconds_all_present: +(again.elapsedMs / 1000).toFixed(2),
      idle_pass_ms: Math.round(idle.elapsedMs),
    }),
  );
  process.exit(0);
}

if (process.argv[2] === '--one') {
  const runsPerDay = Number(process.argv[3]);
  const { qualified } = await import('../dist/store/schema.js');
  const { seedDemo } = await import('../dist/demo/seed.js');
  const { loadRuleFiles } = await import('../dist/rules/load.js');
  const { evalOnce } = await import('../dist/cli/evalOnce.js');
  const { ch, names } = await openBenchStore(process.argv[4]);
  const end = Date.parse('2026-11-22T03:00:00Z');
  const seeded = await seedDemo(ch, names, { days: 28, runsPerDay, seed: 'bench', endMs: end });
  const { ruleSet } = await loadRuleFiles([join(here, '../rules')]);
  const table = qualified('default', 'agent_runs');
  await evalOnce(ch, table, ruleSet, end); // warm-up
  if (global.gc) global.gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const times = [];
  let results = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    results = (await evalOnce(ch, table, ruleSet, end)).length;
    times.push(performance.now() - t0);
  }
  if (global.gc) global.gc();
  const heapAfter = process.memoryUsage().heapUsed;
  times.sort((a, b) => a - b);
  await ch.close();
  process.stdout.write(
    JSON.stringify({
      runs: seeded.inserted,
      seed_seconds: +(seeded.elapsedMs / 1000).toFixed(2),
      seed_runs_per_second: Math.round(seeded.inserted / (seeded.elapsedMs / 1000)),
      eval_all_rules_ms_median: +times[2].toFixed(1),
      eval_all_rules_ms_max: +times[4].toFixed(1),
      eval_results: results,
      js_heap_mb_after_eval: +(heapAfter / 1048576).toFixed(1),
      js_heap_growth_mb_over_5_evals: +((heapAfter - heapBefore) / 1048576).toFixed(2),
    }),
  );
  process.exit(0);
}

const rows = [];
for (const rpd of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'agentdrift-bench-'));
  process.stderr.write(`bench: ${rpd} runs/day x 28 days ...\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--one', String(rpd), dir], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.exit(1);
  }
  rows.push({ runs_per_day: rpd, ...JSON.parse(r.stdout) });
}
let rollup = null;
if (rollupRunsPerDay > 0) {
  const dir = mkdtempSync(join(tmpdir(), 'agentdrift-bench-'));
  process.stderr.write(`bench: rollup of ${rollupRunsPerDay} runs/day x 28 days as plain GenAI spans ...\n`);
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--rollup', String(rollupRunsPerDay), dir], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.exit(1);
  }
  rollup = JSON.parse(r.stdout);
}
const report = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, mem_gb: Math.round(totalmem() / 2 ** 30), results: rows, rollup };
writeFileSync(join(here, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
console.table(rows);
if (rollup) console.table([rollup]);
