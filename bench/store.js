// What the bench scripts share: opening a bench store (embedded chDB), generating one (bench/generate.js,
// then `migrate` backfills its aggregates), and the figures' helpers.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_FLEET, GENERATOR_VERSION, generateRuns } from './generate.js';

export const mb = (x) => +(x / 1048576).toFixed(1);

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The process's peak resident set (VmHWM), or its RSS now where /proc is not there. */
export function peakRssBytes() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

/** A bench store: the embedded engine on `dir`, the default names, the qualified agent_runs. */
export async function openBenchStore(dir) {
  const { openClickHouse } = await import('../dist/clickhouse/client.js');
  const { parseTarget } = await import('../dist/clickhouse/target.js');
  const { DEFAULT_NAMES, qualified } = await import('../dist/store/schema.js');
  const ch = await openClickHouse(parseTarget(`chdb:${dir}`), {});
  return { ch, names: { database: 'default', ...DEFAULT_NAMES }, table: qualified('default', 'agent_runs') };
}

/**
 * Generates `total` runs ending at `endMs` of `fleet` into a new store at `dir` (raw first, then the
 * aggregates backfilled by `migrate`, as an existing store adopting agentdrift is), with progress on
 * stderr, and writes `bench-store.json` there: the generator's version, `extra`, the timings and the
 * aggregates' size.
 */
export async function generateBenchStore(dir, total, endMs, { fleet = DEFAULT_FLEET, extra = {} } = {}) {
  const { migrate } = await import('../dist/store/migrate.js');
  const { terminalProgress } = await import('../dist/util/progress.js');
  const { aggregatesStatus } = await import('../dist/store/aggregatesMigrate.js');
  const { ch, names, table } = await openBenchStore(dir);
  await migrate(ch, names, { aggregates: { enabled: false, dimensions: [] } });
  const t0 = performance.now();
  const p = terminalProgress(process.stderr, `generating ${total} runs`, 'runs');
  p.start(total);
  await generateRuns(ch, table, total, endMs, (done) => p.update(done), 5_000_000, 28, '', fleet);
  p.stop();
  const generateSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await migrate(ch, names, { progress: terminalProgress(process.stderr, 'backfilling the aggregates', 'runs') });
  const backfillSeconds = (performance.now() - t1) / 1000;
  const st = await aggregatesStatus(ch, names);
  await ch.close();
  writeFileSync(join(dir, 'bench-store.json'), JSON.stringify({
    version: GENERATOR_VERSION, runs: total, ...extra, generate_seconds: +generateSeconds.toFixed(1), backfill_seconds: +backfillSeconds.toFixed(1),
    aggregate_rows: st.tables.reduce((s, t) => s + t.rows, 0), aggregate_mb: mb(st.tables.reduce((s, t) => s + t.bytes, 0)),
  }));
}
