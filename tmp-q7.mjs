const { openClickHouse } = await import('./dist/clickhouse/client.js');
const { parseTarget } = await import('./dist/clickhouse/target.js');
const { loadRuleFiles } = await import('./dist/rules/load.js');
const { windowsFor } = await import('./dist/signals/index.js');
const { signalQueries } = await import('./dist/signals/aggregateQuery.js');
const { findAggregates } = await import('./dist/store/aggregatesMigrate.js');
const { AGGREGATE_DEFAULTS } = await import('./dist/store/aggregates.js');
const ch = await openClickHouse(parseTarget(`chdb:${process.argv[2]}`), {});
const names = { database: 'default', agentRuns: 'agent_runs', otelTraces: 'otel_traces', view: 'agent_runs_from_otel' };
const src = await findAggregates(ch, names, AGGREGATE_DEFAULTS);
const { ruleSet } = await loadRuleFiles(['rules/default.yaml']);
const AT = Date.parse('2026-11-22T03:17:42Z');
for (const g of ruleSet.groups) {
  const r = g.rules[0];
  for (const q of signalQueries(r, '`default`.`agent_runs`', windowsFor(r.windowMs, r.baseline, AT), src)) {
    const xs=[]; for (let i=0;i<3;i++){const t0=performance.now(); await ch.query(q.sql, q.params); xs.push(performance.now()-t0);}
    const est = await ch.query(`EXPLAIN ESTIMATE ${q.sql}`, q.params);
    console.log(g.name, q.sql.includes('key_kind') ? 'keyed' : 'totals', xs.map(x=>x.toFixed(0)).join(' '), est.map((e) => `${e.table}:${e.rows}/${e.parts}p`).join(' '));
  }
}
console.log(await ch.query("SELECT table, count() parts, sum(rows) rows FROM system.parts WHERE active AND database='default' GROUP BY table ORDER BY table"));
await ch.close();
