/**
 * POST /api/v1/backtest: the loaded rules, or rules pasted as YAML, replayed over the last `days`
 * with the daemon's engine (engine/backtest.ts), sending nothing and changing no alert state. A POST
 * (a body for the YAML) goes through the same guard as accept: a backtest costs ClickHouse real work,
 * and a page of another site must not be able to start one. One runs at a time: a second waits.
 */
import { z } from 'zod';
import type { BacktestResult } from '../engine/backtest.js';
import { parseRules } from '../rules/load.js';
import type { RuleSet } from '../rules/types.js';
import { parseDuration } from '../yaml/duration.js';
import { formatProblems } from '../yaml/problem.js';
import { badRequest, noRules, seriesPath, type ApiSources } from './api.js';

const DAY = 86_400_000;
export const MAX_BACKTEST_DAYS = 28;
/** The smallest step: a finer replay of weeks costs minutes of ClickHouse time for a preview. */
const MIN_STEP_MS = 5 * 60_000;

const bodySchema = z
  .object({
    days: z.number().int().min(1).max(MAX_BACKTEST_DAYS).default(7),
    step: z.string().max(20).default('1h'),
    rules: z.string().max(60_000).optional(),
  })
  .strict();

export interface TimelineSpan {
  readonly state: 'pending' | 'firing';
  readonly from: string;
  readonly to: string;
}

export interface TimelineRow {
  readonly alertname: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spans: readonly TimelineSpan[];
}

/** Per series, its pending and firing stretches (from the transitions), for a timeline. */
export function timelineOf(r: BacktestResult): TimelineRow[] {
  const rows = new Map<string, { alertname: string; labels: Readonly<Record<string, string>>; spans: TimelineSpan[]; open: { state: 'pending' | 'firing'; from: string } | null }>();
  for (const t of r.transitions) {
    const id = seriesPath('', t.rule, t.labels);
    let row = rows.get(id);
    if (row === undefined) rows.set(id, (row = { alertname: t.rule, labels: t.labels, spans: [], open: null }));
    if (row.open !== null) row.spans.push({ state: row.open.state, from: row.open.from, to: t.at });
    row.open = t.to === 'pending' || t.to === 'firing' ? { state: t.to, from: t.at } : null;
  }
  return [...rows.values()].map((row) => ({
    alertname: row.alertname,
    labels: row.labels,
    spans: row.open === null ? row.spans : [...row.spans, { state: row.open.state, from: row.open.from, to: r.to }],
  }));
}

function ruleSetOf(src: ApiSources, yaml: string | undefined): RuleSet {
  if (yaml === undefined || yaml.trim() === '') {
    const loaded = src.ruleSet();
    if (loaded === null) throw noRules();
    return loaded;
  }
  const parsed = parseRules([{ file: 'pasted.yaml', text: yaml }]);
  if (parsed.ruleSet === null) throw badRequest(`the rules are invalid:\n${formatProblems(parsed.problems).join('\n')}`);
  if (parsed.ruleSet.groups.every((g) => g.rules.length === 0)) throw badRequest('the pasted YAML holds no rule');
  return parsed.ruleSet;
}

export function backtestRunner(src: ApiSources): (raw: unknown) => Promise<unknown> {
  let queue: Promise<unknown> = Promise.resolve();
  return (raw) => {
    const parsed = bodySchema.safeParse(raw ?? {});
    if (!parsed.success) return Promise.reject(badRequest(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')));
    const { days, step, rules } = parsed.data;
    let stepMs: number;
    try {
      stepMs = parseDuration(step);
    } catch (err) {
      return Promise.reject(badRequest(`step: ${(err as Error).message}`));
    }
    if (stepMs < MIN_STEP_MS || stepMs > DAY) return Promise.reject(badRequest('step must be from 5m to 1d'));
    let ruleSet: RuleSet;
    try {
      ruleSet = ruleSetOf(src, rules);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = async () => {
      const to = src.now();
      const result = await src.backtest(ruleSet, to - days * DAY, to, stepMs);
      return { ...result, days, step, source: rules === undefined || rules.trim() === '' ? 'loaded rules' : 'pasted rules', timeline: timelineOf(result) };
    };
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  };
}
