/**
 * The demo fires the same alerts whatever day and hour it ends on: seeded at end times on several
 * weekdays, by day and by night, a Saturday among them, and evaluated at each end with the shipped
 * default rules, the firing set is the README's table every time. (The day the suite runs plays no
 * part: every end time is pinned.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evalOnce, type EvalRow } from '../../src/report/evalOnce.js';
import { seedDemo } from '../../src/demo/seed.js';
import { loadRuleFiles } from '../../src/rules/load.js';
import type { RuleSet } from '../../src/rules/types.js';
import { migrate } from '../../src/store/migrate.js';
import { DEFAULT_NAMES, qualified } from '../../src/store/schema.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { alertId, readmeDemoAlerts } from '../helpers/demo.js';

const END_TIMES = [
  '2026-11-16T00:30:00Z', // Monday, just after midnight
  '2026-11-18T17:00:00Z', // Wednesday afternoon
  '2026-11-19T23:00:00Z', // Thursday night: drift (a) then started 9.6 days before, half in the baseline
  '2026-11-21T15:00:00Z', // Saturday afternoon
  '2026-11-24T04:00:00Z', // Tuesday before dawn, the weekday drift (a) starts on
  '2026-11-27T12:00:00Z', // Friday noon
];

let store: TempStore;
let rules: RuleSet;
const firing = new Map<string, string[]>();

const id = (r: EvalRow) => alertId({ alert: r.rule, workflowId: r.labels.workflow_id ?? '', key: r.key });

beforeAll(async () => {
  store = await openTempStore();
  const loaded = await loadRuleFiles(['rules']);
  expect(loaded.problems).toEqual([]);
  rules = loaded.ruleSet!;
  // One embedded engine per process: each end time gets a database of its own.
  for (const [i, iso] of END_TIMES.entries()) {
    const names = { database: `demo_end_${i}`, ...DEFAULT_NAMES };
    await store.ch.command(`CREATE DATABASE IF NOT EXISTS ${names.database}`);
    await migrate(store.ch, names);
    const end = Date.parse(iso);
    await seedDemo(store.ch, names, { days: 28, runsPerDay: 6000, seed: 'agentdrift', endMs: end });
    const rows = await evalOnce(store.ch, qualified(names.database, names.agentRuns), rules, end);
    expect(rows.filter((r) => r.error)).toEqual([]);
    firing.set(iso, rows.filter((r) => r.state === 'firing').map(id).sort());
  }
}, 300_000);

afterAll(async () => {
  await store?.ch.close();
});

describe('the demo on any day', () => {
  it('covers at least four weekdays, a Saturday, and day and night hours', () => {
    const days = new Set(END_TIMES.map((t) => new Date(t).getUTCDay()));
    expect([...days].filter((d) => d >= 1 && d <= 5).length).toBeGreaterThanOrEqual(4);
    expect(days.has(6)).toBe(true);
    const hours = END_TIMES.map((t) => new Date(t).getUTCHours());
    expect(hours.some((h) => h < 6 || h >= 22)).toBe(true);
    expect(hours.some((h) => h >= 10 && h <= 18)).toBe(true);
  });

  it('lists sixteen alerts in the README: eight drifts and effects, each from a 7-day and a 1-day rule', () => {
    expect(readmeDemoAlerts()).toHaveLength(16);
  });

  it.each(END_TIMES)('ending %s fires exactly the README table', (iso) => {
    const expected = readmeDemoAlerts().map(alertId).sort();
    expect(firing.get(iso)).toEqual(expected);
  });
});
