/**
 * `agentdrift explain <rule> [--group k=v ...] [--at ISO]`: the explanation of a rule's series as of a
 * time. The rule is evaluated first (the same evaluation as `eval`) to find its series; those whose
 * labels include every --group label are explained: the ones whose condition holds, or all of them
 * when none does (an operator may ask why something did not fire), at most MAX_SERIES.
 */
import type { ClickHouse } from '../clickhouse/client.js';
import { evaluateRule } from '../engine/evaluate.js';
import { StoreSums } from '../signals/sums.js';
import { explainSeries } from '../explain/explain.js';
import type { Explanation } from '../explain/types.js';
import type { Rule, RuleSet } from '../rules/types.js';
import { UnknownRuleError } from '../engine/engine.js';
import type { AggregateSource } from '../signals/index.js';
import { ERR } from '../util/errors.js';

export const MAX_SERIES = 10;

/** No series of the rule has the labels asked for (exit 2, as a usage error; HTTP 404). */
export class NoSuchSeriesError extends Error {
  override readonly name = 'NoSuchSeriesError';
  readonly errorCode = ERR.NO_SUCH_SERIES;
}

export async function explainRule(
  ch: ClickHouse,
  table: string,
  rule: Rule,
  match: Readonly<Record<string, string>>,
  at: number,
  o: { readonly aggregates?: AggregateSource | null; readonly traceUrl?: ((traceId: string, runId: string) => string | null) | null } = {},
): Promise<Explanation[]> {
  const query = (sql: string, params: Record<string, unknown>) => ch.query(sql, params);
  const sums = new StoreSums({ query, table, aggregates: () => o.aggregates ?? null });
  const ev = await evaluateRule(sums.reader(), rule, at);
  if (ev.error) throw new Error(`evaluating ${rule.alert} failed: ${ev.error}`);
  const matching = ev.series.filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
  if (matching.length === 0) {
    const known = ev.series.slice(0, 5).map((s) => Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(' '));
    throw new NoSuchSeriesError(`no series of ${rule.alert} matches ${Object.entries(match).map(([k, v]) => `${k}=${v}`).join(' ') || '(all)'} at ${new Date(at).toISOString()}${known.length ? `; some series: ${known.join('; ')}` : ''}`);
  }
  const active = matching.filter((s) => s.outcome.kind === 'ok' && s.outcome.active);
  const chosen = (active.length > 0 ? active : matching).slice(0, MAX_SERIES);
  const out: Explanation[] = [];
  for (const s of chosen) {
    const active = s.outcome.kind === 'ok' && s.outcome.active;
    out.push(await explainSeries(query, table, { rule, labels: s.labels, key: s.key, at, active }, { traceUrl: o.traceUrl ?? null, aggregates: () => o.aggregates ?? null }));
  }
  return out;
}

/**
 * The rule whose alert is `name` in `rules` (read from `paths`), or an error naming where the rules
 * were read and the rules there: the same words from the command and from the daemon's API.
 */
export function ruleNamedIn(rules: RuleSet, paths: readonly string[], name: string): Rule {
  const all = rules.groups.flatMap((g) => g.rules);
  const rule = all.find((r) => r.alert === name);
  if (!rule) {
    const known = [...new Set(all.map((r) => r.alert))];
    throw new UnknownRuleError(`no rule named ${JSON.stringify(name)} in ${paths.join(', ')}; ${known.length === 0 ? 'no rules there' : `known rules: ${known.join(', ')}`}`);
  }
  return rule;
}
