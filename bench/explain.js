#!/usr/bin/env node
// `npm run bench:explain`: what explaining an alert costs ClickHouse. Every rule is evaluated as of a
// time; each series whose condition holds is explained (what the daemon does once per series when it
// goes pending or firing, then again only every few hours) and every query of the explanation is
// timed by kind: totals and per-key sums over the rule's windows (what moved), the hourly series
// (onset), the attribution to dimension values, the first sightings of the causes, and the example
// runs. Figures go to bench/results/explain.json and are printed.
//
//   BENCH_STORE=/path/to/chdb/dir   measure an existing embedded store (evaluated at BENCH_AT, or at
//                                   the last run's time rounded up to the hour)
//   (no BENCH_STORE)                seed the demo at about 1M runs (36,000 a day for 28 days) first
//   BENCH_REPEATS=3                 explanations per series (the median is reported)
//
// measureExplain() is exported so bench/run.js can call it on its own stores (e.g. at 100M runs).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, benchMeta } from './meta.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const HOUR = 3_600_000;

/** Which explanation query a SQL text is (see src/explain/sql.ts). */
function kindOf(sql) {
  if (sql.includes('sumIf(x, w = 0) AS x1')) return 'attribution';
  if (sql.includes('toStartOfHour(timestamp)')) return 'hourly_onset';
  if (sql.includes('median(x) OVER ()')) return 'example_runs';
  if (sql.includes('minIf(ts_ms')) return 'first_seen';
  // What moved: totalsQuery/keysQuery on agent_runs, or the sums' totals and keyed queries (through the aggregates).
  if (sql.includes('AS successes')) return 'moved_totals';
  if (sql.includes('AS key') || sql.includes('key_kind')) return 'moved_keys';
  return 'other';
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.floor((s.length - 1) / 2)];
};
const round = (x) => (x === null ? null : Math.round(x * 10) / 10);

/**
 * Explains every active series of `ruleSet` at `at` on `ch` (an open ClickHouse of dist/clickhouse)
 * and times it. Returns the figures (plain JSON).
 */
export async function measureExplain({ ch, table, ruleSet, at, repeats = 3, maxSeries = 20, aggregates = null }) {
  const { evaluateRule } = await import('../dist/engine/evaluate.js');
  const { StoreSums } = await import('../dist/signals/sums.js');
  const { explainSeries } = await import('../dist/explain/explain.js');
  const byKind = new Map();
  const timed = async (sql, params) => {
    const t0 = performance.now();
    const rows = await ch.query(sql, params);
    const k = kindOf(sql);
    if (!byKind.has(k)) byKind.set(k, []);
    byKind.get(k).push(performance.now() - t0);
    return rows;
  };
  const plain = (sql, params) => ch.query(sql, params);
  const series = [];
  for (const group of ruleSet.groups) {
    for (const rule of group.rules) {
      const ev = await evaluateRule(new StoreSums({ query: plain, table, aggregates: () => aggregates }).reader(), rule, at);
      if (ev.error) throw new Error(`${rule.alert}: ${ev.error}`);
      for (const s of ev.series) if (s.outcome.kind === 'ok' && s.outcome.active) series.push({ rule, s });
    }
  }
  const out = [];
  for (const { rule, s } of series.slice(0, maxSeries)) {
    const times = [];
    let e;
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      e = await explainSeries(timed, table, { rule, labels: s.labels, key: s.key, at, active: true }, { aggregates: () => aggregates });
      times.push(performance.now() - t0);
    }
    const cause = e.attribution.causes[0];
    out.push({
      rule: rule.alert,
      labels: s.labels,
      explain_ms_median: round(median(times)),
      onset: e.onset ? new Date(e.onset.at).toISOString() : null,
      moved_top: e.moved.parts[0]?.name ?? null,
      cause: cause ? `${cause.dimension}=${cause.value} (${Math.round(cause.explained * 100)}%)` : null,
      examples: e.examples.length,
    });
  }
  const queries = Object.fromEntries(
    [...byKind].map(([k, xs]) => [k, { count: xs.length, median_ms: round(median(xs)), max_ms: round(Math.max(...xs)) }]),
  );
  return {
    series_explained: out.length,
    explain_ms_median_over_series: round(median(out.map((x) => x.explain_ms_median))),
    explain_ms_max_over_series: out.length ? round(Math.max(...out.map((x) => x.explain_ms_median))) : null,
    queries,
    per_series: out,
  };
}

async function main() {
  const { openClickHouse } = await import('../dist/clickhouse/client.js');
  const { parseTarget } = await import('../dist/clickhouse/target.js');
  const { migrate } = await import('../dist/store/migrate.js');
  const { DEFAULT_NAMES, qualified } = await import('../dist/store/schema.js');
  const { loadRuleFiles } = await import('../dist/rules/load.js');
  const given = process.env.BENCH_STORE ?? null;
  const dir = given ?? mkdtempSync(join(tmpdir(), 'agentdrift-bench-explain-'));
  const ch = await openClickHouse(parseTarget(`chdb:${dir}`), {});
  const names = { database: 'default', ...DEFAULT_NAMES };
  let at;
  let seeded = null;
  try {
    if (given === null) {
      await migrate(ch, names);
      const { seedDemo } = await import('../dist/demo/seed.js');
      const runsPerDay = Number(process.env.BENCH_RUNS_PER_DAY ?? '36000');
      at = Date.parse('2026-11-22T03:00:00Z');
      const t0 = performance.now();
      await seedDemo(ch, names, { days: 28, runsPerDay, seed: 'bench', endMs: at });
      seeded = { runs_per_day: runsPerDay, seconds: round((performance.now() - t0) / 1000) };
    } else {
      const [row] = await ch.query(`SELECT toUnixTimestamp64Milli(max(timestamp)) AS t FROM ${qualified(names.database, names.agentRuns)}`);
      at = process.env.BENCH_AT ? Date.parse(process.env.BENCH_AT) : Math.ceil(Number(row.t) / HOUR) * HOUR;
    }
    const table = qualified(names.database, names.agentRuns);
    const [{ n }] = await ch.query(`SELECT count() AS n FROM ${table}`);
    const { ruleSet } = await loadRuleFiles([join(here, '../rules')]);
    const figures = await measureExplain({ ch, table, ruleSet, at, repeats: Number(process.env.BENCH_REPEATS ?? '3') });
    const meta = benchMeta(
      `what explaining an alert costs: every active series of the default rules explained as of ${new Date(at).toISOString()} on ${given ?? 'the seeded demo'} ` +
        `(${Number(n)} runs, embedded chDB), each explanation query timed by kind, medians of ${Number(process.env.BENCH_REPEATS ?? '3')} explanations per series`,
    );
    const result = { meta, measured_at: new Date().toISOString(), store: given ?? 'seeded demo', runs: Number(n), seeded, at: new Date(at).toISOString(), ...figures };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, 'explain.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await ch.close();
    if (given === null) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
