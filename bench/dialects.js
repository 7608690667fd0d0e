#!/usr/bin/env node
// `npm run bench:dialects`: what the span rollup costs per instrumentation family. The demo's runs
// (DIALECT_DAYS days at DIALECT_RUNS_PER_DAY runs a day, default 7 x 6000) written as each family
// writes them (`demo seed --spans --dialect`), then rolled up into agent_runs (a pass per day), each
// family in a database of its own on one embedded store; the rollup's spans per second per family.
// Writes bench/results/dialects.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESULTS_DIR, benchMeta } from './meta.js';

const DAYS = Number(process.env.DIALECT_DAYS ?? 7);
const RUNS_PER_DAY = Number(process.env.DIALECT_RUNS_PER_DAY ?? 6000);
const END = Date.parse('2026-11-22T03:00:00Z');

const { openClickHouse } = await import('../dist/clickhouse/client.js');
const { parseTarget } = await import('../dist/clickhouse/target.js');
const { migrate } = await import('../dist/store/migrate.js');
const { DEFAULT_NAMES } = await import('../dist/store/schema.js');
const { seedDemo } = await import('../dist/demo/seed.js');
const { DEMO_DIALECTS } = await import('../dist/demo/generate.js');

const dir = mkdtempSync(join(tmpdir(), 'agentdrift-dialects-'));
const ch = await openClickHouse(parseTarget(`chdb:${dir}`), {});
const results = [];
try {
  for (const dialect of DEMO_DIALECTS) {
    const names = { ...DEFAULT_NAMES, database: `bench_${dialect.replace('-', '_')}` };
    await migrate(ch, names);
    process.stderr.write(`${dialect}: seeding ${DAYS} days at ${RUNS_PER_DAY} runs a day and rolling them up ...\n`);
    const r = await seedDemo(ch, names, { days: DAYS, runsPerDay: RUNS_PER_DAY, seed: 'agentdrift', endMs: END, form: 'spans', dialect });
    const rollupSeconds = r.rollup.elapsedMs / 1000;
    const [{ rows }] = await ch.query(`SELECT count() AS rows FROM ${names.database}.agent_runs`);
    results.push({
      dialect,
      runs: r.inserted,
      spans: r.spans,
      rows: Number(rows),
      seed_and_rollup_seconds: +(r.elapsedMs / 1000).toFixed(1),
      rollup_seconds: +rollupSeconds.toFixed(1),
      rollup_passes: r.rollup.passes,
      rollup_spans_per_second: Math.round(r.spans / rollupSeconds),
      rollup_runs_per_second: Math.round(r.inserted / rollupSeconds),
    });
  }
} finally {
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
}
const report = {
  meta: benchMeta(`the span rollup per instrumentation family: the demo's runs (${DAYS} days at ${RUNS_PER_DAY} runs a day) written as each family writes them, then rolled up (a pass per day); spans and runs per second of the rollup`),
  results,
};
writeFileSync(join(RESULTS_DIR, 'dialects.json'), `${JSON.stringify(report, null, 2)}\n`);
console.table(results);
