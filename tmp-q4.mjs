const { openClickHouse } = await import('./dist/clickhouse/client.js');
const { parseTarget } = await import('./dist/clickhouse/target.js');
const { loadRuleFiles } = await import('./dist/rules/load.js');
const { windowsFor } = await import('./dist/signals/index.js');
const { runAggregatesQuery } = await import('./dist/signals/aggregateQuery.js');
const { findAggregates } = await import('./dist/store/aggregatesMigrate.js');
const { AGGREGATE_DEFAULTS } = await import('./dist/store/aggregates.js');
const ch = await openClickHouse(parseTarget(`chdb:${process.argv[2]}`), {});
const names = { database: 'default', agentRuns: 'agent_runs', otelTraces: 'otel_traces', view: 'agent_runs_from_otel' };
const src = await findAggregates(ch, names, AGGREGATE_DEFAULTS);
const { ruleSet } = await loadRuleFiles(['rules/default.yaml']);
const AT = Date.parse('2026-11-22T03:17:42Z');
const time = async (label, sql, params={}) => { const xs=[]; for (let i=0;i<4;i++){const t0=performance.now(); await ch.query(sql, params); xs.push(performance.now()-t0);} xs.sort((a,b)=>a-b); console.log(label, xs.map(x=>x.toFixed(1)).join(' ')); };
for (const g of ruleSet.groups) {
  const r = g.rules[0];
  const q = runAggregatesQuery(r, '`default`.`agent_runs`', windowsFor(r.windowMs, r.baseline, AT), src);
  await time(g.name + ' full', q.sql, q.params);
  const parts = q.sql.split('\nUNION ALL\n');
  if (process.argv[3]) console.log(q.sql);
  // time each part: extract inner selects
  const inner = q.sql.slice(q.sql.indexOf('FROM (SELECT', q.sql.indexOf('FROM (')+1));
}
await time('1h sums all', `SELECT workflow_id, sum(runs), sumMap(calls_by_tool), sumMap(calls_sq_by_tool), sumMap(calls_x_total_by_tool), sumMap(calls_product_by_pair), sumMap(runs_by_fingerprint), sumMap(hits_by_denied_rule) FROM agent_runs_agg_1h GROUP BY workflow_id`);
await time('1h scalars', `SELECT workflow_id, sum(runs), sum(calls) FROM agent_runs_agg_1h GROUP BY workflow_id`);
await time('1h one map', `SELECT workflow_id, sumMap(calls_by_tool) FROM agent_runs_agg_1h GROUP BY workflow_id`);
await time('1h pairs map', `SELECT workflow_id, sumMap(calls_product_by_pair) FROM agent_runs_agg_1h GROUP BY workflow_id`);
console.log(await ch.query("SELECT table, count() parts, sum(rows) rows FROM system.parts WHERE active AND database='default' GROUP BY table ORDER BY table"));
await ch.close();
