const { openClickHouse } = await import('./dist/clickhouse/client.js');
const { parseTarget } = await import('./dist/clickhouse/target.js');
const ch = await openClickHouse(parseTarget(`chdb:${process.argv[2]}`), {});
console.log(await ch.query("SELECT table, count() parts, sum(rows) rows FROM system.parts WHERE active AND database='default' GROUP BY table ORDER BY table"));
await ch.close();
