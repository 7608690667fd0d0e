/**
 * `demo seed --spans --dialect`: the same demo runs written as each instrumentation family writes
 * them (OpenInference, OpenLLMetry, the Vercel AI SDK) roll up into exactly the rows the plain GenAI
 * traces give, so the demo's drifts fire the same alerts from each (test/demo/spans.test.ts checks
 * those alerts on the GenAI form). Two days at 2000 runs a day: every run's row is compared, column by
 * column.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DIALECTS, type DemoDialect } from '../../src/demo/generate.js';
import { seedDemo, type SeedResult } from '../../src/demo/seed.js';
import { migrate } from '../../src/store/migrate.js';
import type { StoreNames } from '../../src/store/schema.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { runCli } from '../helpers/cli.js';
import { DEMO_END } from '../helpers/demo.js';

// chDB opens one data directory per process: one store, a database per dialect.
let store: TempStore;
const names = new Map<DemoDialect, StoreNames>();
const seeded = new Map<DemoDialect, SeedResult>();

beforeAll(async () => {
  store = await openTempStore();
  for (const dialect of DEMO_DIALECTS) {
    const n: StoreNames = { ...store.names, database: `demo_${dialect.replace('-', '_')}` };
    await migrate(store.ch, n);
    names.set(dialect, n);
    seeded.set(dialect, await seedDemo(store.ch, n, { days: 2, runsPerDay: 2000, seed: 'agentdrift', endMs: DEMO_END, form: 'spans', dialect }));
  }
}, 300_000);

afterAll(async () => {
  await store?.ch.close();
});

const db = (dialect: DemoDialect) => names.get(dialect)!.database;

/** Every agent_runs row, in run order, costs rounded to the nano-dollar (the sum order may differ). */
async function rows(dialect: DemoDialect): Promise<Record<string, unknown>[]> {
  return store.ch.query(
    `SELECT * REPLACE (round(token_cost_usd, 9) AS token_cost_usd, round(tool_cost_usd, 9) AS tool_cost_usd) FROM ${db(dialect)}.agent_runs ORDER BY run_id`,
  );
}

describe('demo seed --spans --dialect', () => {
  it('writes each family\'s own span names and attributes, no GenAI operation names', async () => {
    const names = async (dialect: DemoDialect) =>
      (await store.ch.query<{ name: string }>(`SELECT DISTINCT SpanName AS name FROM ${db(dialect)}.otel_traces WHERE SpanName NOT LIKE 'POST %' AND SpanName != 'guardrail check' ORDER BY name LIMIT 6`)).map((r) => r.name);
    expect(await names('vercel-ai')).toEqual(['ai.generateText', 'ai.generateText.doGenerate', 'ai.toolCall']);
    expect((await names('openllmetry')).some((n) => n.endsWith('.agent'))).toBe(true);
    for (const dialect of ['openinference', 'openllmetry', 'vercel-ai'] as const) {
      const [r] = await store.ch.query<{ n: number }>(`SELECT count() AS n FROM ${db(dialect)}.otel_traces WHERE SpanAttributes['gen_ai.operation.name'] != ''`);
      expect(Number(r!.n), dialect).toBe(0);
    }
  });

  it.each(['openinference', 'openllmetry', 'vercel-ai'] as const)('%s: one row per run, each equal to the GenAI form\'s, column by column', async (dialect) => {
    const base = await rows('genai');
    expect(base.length).toBe(seeded.get('genai')!.inserted);
    expect(seeded.get(dialect)!.inserted).toBe(seeded.get('genai')!.inserted);
    expect(seeded.get(dialect)!.rollup!.counters).toMatchObject({ runs: base.length, spans_without_run: 0, unpriced_model_calls: 0 });
    expect(await rows(dialect)).toEqual(base);
  });

  it('--dialect needs --spans, and names the families it knows', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'agentdrift-dialect-'));
    const noSpans = runCli(['demo', 'seed', '--dialect', 'vercel-ai'], cwd);
    expect(noSpans.code).toBe(2);
    expect(noSpans.stderr).toMatch(/--dialect applies to traces: pass --spans with it/);
    const unknown = runCli(['demo', 'seed', '--spans', '--dialect', 'langsmith'], cwd);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--dialect must be genai or openinference or openllmetry or vercel-ai/);
  });
});
