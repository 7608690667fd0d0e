/**
 * The demo as tests pin it: one end time for every test that seeds or starts the demo, so no outcome
 * depends on the day the suite runs, and the README's table of what the demo fires, parsed so a test
 * can hold the demo to it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** A Sunday night: the end of the seeded demo period and the daemon's pinned "now". */
export const DEMO_END_ISO = '2026-11-22T03:00:00Z';
export const DEMO_END = Date.parse(DEMO_END_ISO);

/** `start` arguments that seed the demo ending at `endIso` and run the daemon's clock from there. */
export function pinnedDemoStart(endIso: string = DEMO_END_ISO): string[] {
  return ['start', '--demo', '--now', endIso];
}

/** A restart of the same daemon `minutes` after the pinned end (its clock must not run backwards). */
export function pinnedRestart(minutes: number, endIso: string = DEMO_END_ISO): string[] {
  return ['start', '--now', new Date(Date.parse(endIso) + minutes * 60_000).toISOString()];
}

export interface ExpectedAlert {
  readonly alert: string;
  readonly workflowId: string;
  readonly key: string;
}

/** `alert/workflow_id[/key]`, the form the tests compare. */
export const alertId = (a: ExpectedAlert): string => [a.alert, a.workflowId, ...(a.key ? [a.key] : [])].join('/');

/** The rows of the table between the demo-firing markers in README.md. */
export function readmeDemoAlerts(): ExpectedAlert[] {
  const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
  const start = readme.indexOf('<!-- demo-firing:start');
  const end = readme.indexOf('<!-- demo-firing:end -->');
  if (start < 0 || end < start) throw new Error('README.md has no demo-firing table');
  const rows = readme
    .slice(start, end)
    .split('\n')
    .filter((l) => l.startsWith('| `'));
  return rows.map((l) => {
    const cells = l.split('|').slice(1, -1).map((c) => c.trim().replace(/`/g, ''));
    return { alert: cells[0]!, workflowId: cells[1]!, key: cells[2] ?? '' };
  });
}
