const { openClickHouse } = await import('./dist/clickhouse/client.js');
const { parseTarget } = await import('./dist/clickhouse/target.js');
const { loadRuleFiles } = await import('./dist/rules/load.js');
const { SIGNAL_IMPLS, windowsFor } = await import('./dist/signals/index.js');
const { findAggregates } = await import('./dist/store/aggregatesMigrate.js');
const { AGGREGATE_DEFAULTS } = await import('./dist/store/aggregates.js');
const ch = await openClickHouse(parseTarget(`chdb:${process.argv[2]}`), {});
const names = { database: 'default', agentRuns: 'agent_runs', otelTraces: 'otel_traces', view: 'agent_runs_from_otel' };
const src = await findAggregates(ch, names, AGGREGATE_DEFAULTS);
const { ruleSet } = await loadRuleFiles(['rules/default.yaml']);
const AT = Date.parse('2026-11-22T03:17:42Z');
const seen = new Map();
for (const g of ruleSet.groups) for (const r of g.rules) {
  const w = windowsFor(r.windowMs, r.baseline, AT);
  for (const q of SIGNAL_IMPLS[r.signal].queries(r, '`default`.`agent_runs`', w, process.argv[3] === 'raw' ? null : src)) seen.set(q.sql + JSON.stringify(q.params), { ...q, g: g.name, kind: q.sql.match(/agent_runs_1h_(\w+)/)?.[1] ?? 'raw' });
}
for (const q of seen.values()) {
  const t0 = performance.now(); await ch.query(q.sql, q.params); const t = performance.now() - t0;
  const est = await ch.query(`EXPLAIN ESTIMATE ${q.sql}`, q.params);
  console.log(q.g, q.kind, t.toFixed(1), 'ms', est.map((e) => `${e.table}:${e.rows}`).join(' '));
}
await ch.close();
