/** What a rule set's schedules imply for the rest of the daemon (pure). */
import type { RuleSet } from './types.js';

/** A cron group counts as hourly: its gaps vary, an hour bounds the usual ones. */
const CRON_AS_MS = 60 * 60_000;

const gapOf = (g: RuleSet['groups'][number]): number => (g.schedule.kind === 'interval' ? g.schedule.everyMs : CRON_AS_MS);

/** How stale the last evaluation may be before /readyz fails: three slowest schedules plus a timeout. */
export function stalenessBound(rules: RuleSet | null): number {
  if (!rules || rules.groups.length === 0) return 15 * 60_000;
  return 3 * Math.max(...rules.groups.map((g) => gapOf(g) + g.timeoutMs));
}

/** The longest time between two evaluations of a group (Alertmanager's endsAt is set past it). */
export function longestInterval(rules: RuleSet | null): number {
  if (!rules || rules.groups.length === 0) return 0;
  return Math.max(...rules.groups.map(gapOf));
}
