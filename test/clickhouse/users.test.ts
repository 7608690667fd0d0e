/**
 * The docker compose stack's ClickHouse users (deploy/clickhouse/users.d/agentdrift-users.xml), loaded
 * as shipped into a real clickhouse-server with passwords in its environment: agentdrift's read path
 * works as its read-only user, and every kind of write it could attempt is refused with a clear error.
 *
 * CI runs Debian's clickhouse-server 18.16, which predates SQL access control: there the read-only
 * profiles (readonly = 2 for agentdrift and Grafana: reads and settings, no writes) do the refusing and the <grants> are ignored.
 * The grants are checked statically in compose.test.ts, and enforced here on a server new enough to
 * read them (22.12+, AGENTDRIFT_TEST_CLICKHOUSE_SERVER=/path/to/clickhouse).
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/client.js';
import { parseTarget } from '../../src/clickhouse/target.js';
import { resetStore, storeContents } from '../../src/demo/seed.js';
import { storeStatus } from '../../src/store/status.js';
import { DEFAULT_NAMES, type StoreNames } from '../../src/store/schema.js';
import { clickHouseFailure, clickhouseSkip, startClickHouseServer, type ClickHouseServer } from '../helpers/clickhouseServer.js';

const { skip, reason } = clickhouseSkip();
if (skip) console.warn(`[clickhouse-users] SKIPPED: ${reason}`);

const USERS_FILE = resolve(__dirname, '../../deploy/clickhouse/users.d/agentdrift-users.xml');
const DB = 'agentdrift';
const names: StoreNames = { database: DB, ...DEFAULT_NAMES };
// The server splices from_env values into its XML config: & and < would break it (.env.example says so).
const pw = (tag: string) => `${tag}-${randomBytes(12).toString('base64url')}`;
const PASSWORDS = {
  agentdrift_migrate: pw('migrate'),
  agentdrift: pw('reader'),
  otel_collector: pw('collector'),
  grafana: pw('grafana'),
} as const;
type User = keyof typeof PASSWORDS;

describe.skipIf(skip)(skip ? `ClickHouse users of the compose stack (skipped: ${reason})` : 'ClickHouse users of the compose stack (real clickhouse-server)', () => {
  let server: ClickHouseServer;
  let serverMajor = 0;
  const opened: ClickHouse[] = [];
  const as = async (user: User | string, password: string = PASSWORDS[user as User], database = DB) => {
    const ch = await openClickHouse(parseTarget(`${server.url}/${database}`), { user, password });
    opened.push(ch);
    return ch;
  };
  let migrateUser: ClickHouse;
  const RUNS = [
    { timestamp: '2026-11-20T10:00:00Z', run_id: 'r1', workflow_id: 'invoice_enrichment', malformed_fields: 0 },
    { timestamp: '2026-11-20T11:00:00Z', run_id: 'r2', workflow_id: 'invoice_enrichment', malformed_fields: 0 },
    { timestamp: '2026-11-21T09:00:00Z', run_id: 'r3', workflow_id: 'support_triage', malformed_fields: 2 },
    { timestamp: '2026-11-22T03:00:00Z', run_id: 'r4', workflow_id: 'report_generation', malformed_fields: 0 },
  ];

  beforeAll(async () => {
    server = await startClickHouseServer({
      usersFiles: [USERS_FILE],
      env: {
        CLICKHOUSE_MIGRATE_PASSWORD: PASSWORDS.agentdrift_migrate,
        CLICKHOUSE_AGENTDRIFT_PASSWORD: PASSWORDS.agentdrift,
        CLICKHOUSE_COLLECTOR_PASSWORD: PASSWORDS.otel_collector,
        CLICKHOUSE_GRAFANA_PASSWORD: PASSWORDS.grafana,
      },
    });
    // What agentdrift-migrate does, in a shape every server version understands (18.16 has neither
    // Map nor DateTime64 columns, so not the real DDL): the columns `status` reads.
    const setup = await as('agentdrift_migrate', PASSWORDS.agentdrift_migrate, 'default');
    const [v] = await setup.query<{ v: string }>('SELECT version() AS v');
    serverMajor = Number(String(v?.v).split('.')[0]);
    await setup.command(`CREATE DATABASE IF NOT EXISTS ${DB}`);
    migrateUser = await as('agentdrift_migrate');
    await migrateUser.command(
      'CREATE TABLE agent_runs (timestamp DateTime, run_id String, workflow_id String, malformed_fields UInt8) ENGINE = MergeTree ORDER BY (workflow_id, timestamp)',
    );
    await migrateUser.command('CREATE TABLE otel_traces (Timestamp DateTime, TraceId String, SpanName String) ENGINE = MergeTree ORDER BY Timestamp');
    await migrateUser.insert('agent_runs', RUNS);
    await migrateUser.insert('otel_traces', RUNS.map((r) => ({ Timestamp: r.timestamp, TraceId: r.run_id, SpanName: 'invoke_agent' })));
  });

  afterAll(async () => {
    for (const ch of opened) await ch.close().catch(() => undefined);
    await server?.dispose();
  });

  it("agentdrift's read path works as its read-only user: ping, status, store contents, an aggregate per workflow", async () => {
    const ch = await as('agentdrift');
    await ch.ping();
    // (storeStatus binds query parameters, which this 18.x server predates: its read path is covered
    // on chDB; here, what the read-only profile must allow.)
    expect(await storeContents(ch, names)).toEqual({ runs: 4, spans: 4 });
    // A signal query's simple form: aggregates per group, computed in ClickHouse.
    const rows = await ch.query<{ workflow_id: string; runs: string }>(
      'SELECT workflow_id, count() AS runs FROM agent_runs GROUP BY workflow_id ORDER BY workflow_id',
    );
    expect(rows.map((r) => [r.workflow_id, Number(r.runs)])).toEqual([
      ['invoice_enrichment', 2],
      ['report_generation', 1],
      ['support_triage', 1],
    ]);
  });

  const WRITES: [string, (ch: ClickHouse) => Promise<unknown>][] = [
    ['INSERT rows', (ch) => ch.insert('agent_runs', [{ timestamp: '2026-11-22T04:00:00Z', run_id: 'x', workflow_id: 'evil', malformed_fields: 0 }])],
    ['INSERT ... SELECT', (ch) => ch.command('INSERT INTO agent_runs SELECT * FROM agent_runs')],
    ['CREATE TABLE', (ch) => ch.command(`CREATE TABLE ${DB}.evil (a UInt8) ENGINE = Memory`)],
    ['CREATE DATABASE', (ch) => ch.command('CREATE DATABASE evil')],
    ['DROP TABLE', (ch) => ch.command(`DROP TABLE ${DB}.agent_runs`)],
    ['DROP DATABASE', (ch) => ch.command(`DROP DATABASE ${DB}`)],
    ['TRUNCATE (what demo seed --reset does)', (ch) => resetStore(ch, names)],
    ['ALTER ... DELETE', (ch) => ch.command(`ALTER TABLE ${DB}.agent_runs DELETE WHERE 1`)],
    ['RENAME TABLE', (ch) => ch.command(`RENAME TABLE ${DB}.agent_runs TO ${DB}.gone`)],
  ];

  describe.each([['agentdrift'], ['grafana']] as const)('%s: any write is refused, clearly', (user) => {
    it.each(WRITES)('%s', async (_what, write) => {
      const ch = await as(user);
      const err = await clickHouseFailure(write(ch));
      expect(err.kind).toBe('query');
      expect(err.message).toMatch(/^ClickHouse at http:\/\/127\.0\.0\.1:\d+\/agentdrift rejected a write \(read-only user\): /);
      expect(err.message).toMatch(/readonly mode/);
      for (const p of Object.values(PASSWORDS)) expect(err.message).not.toContain(p);
    });
  });

  it('after every refused write the data is as it was', async () => {
    expect(await storeContents(await as('agentdrift'), names)).toEqual({ runs: 4, spans: 4 });
    const tables = await migrateUser.query<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${DB}' ORDER BY name`);
    expect(tables.map((t) => t.name)).toEqual(['agent_runs', 'otel_traces']);
    const dbs = await migrateUser.query<{ name: string }>("SELECT name FROM system.databases WHERE name = 'evil'");
    expect(dbs).toEqual([]);
  });

  it('agentdrift and Grafana may carry settings (readonly = 2: bound parameters, max_execution_time), never write', async () => {
    const sql = 'SELECT 1 AS one SETTINGS max_execution_time = 30';
    expect(await (await as('agentdrift')).query(sql)).toEqual([{ one: 1 }]);
    expect(await (await as('grafana')).query(sql)).toEqual([{ one: 1 }]);
  });

  it.each(Object.keys(PASSWORDS) as User[])('%s needs its password from the environment: a wrong or empty one is refused', async (user) => {
    for (const wrong of ['wrong', '']) {
      const err = await clickHouseFailure((await as(user, wrong)).query('SELECT 1 AS one'));
      expect(err.kind).toBe('auth');
    }
  });

  it('the migrate user keeps its DDL rights (the file does not make everyone read-only)', async () => {
    await migrateUser.command(`CREATE TABLE ${DB}.scratch (a UInt8) ENGINE = Memory`);
    await migrateUser.command(`DROP TABLE ${DB}.scratch`);
  });

  it('grants, where the server enforces them (22.12+): the collector only appends spans, the readers only read agentdrift', async (ctx) => {
    if (serverMajor < 23) ctx.skip(); // 18.16 ignores <grants>; compose.test.ts checks them statically
    const collector = await as('otel_collector');
    await collector.insert('otel_traces', [{ Timestamp: '2026-11-22T05:00:00Z', TraceId: 't', SpanName: 'invoke_agent' }]);
    for (const sql of ['SELECT count() FROM otel_traces', `CREATE TABLE ${DB}.evil (a UInt8) ENGINE = Memory`, `DROP TABLE ${DB}.otel_traces`]) {
      expect((await clickHouseFailure(collector.command(sql))).message).toMatch(/ACCESS_DENIED|Not enough privileges/);
    }
    await clickHouseFailure((await as('agentdrift', PASSWORDS.agentdrift, 'default')).query('SELECT count() AS n FROM system.users'));
  });
});
