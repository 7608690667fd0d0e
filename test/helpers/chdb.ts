/** An embedded ClickHouse (chDB) in a temp directory. chDB allows one engine per process, and vitest
 * runs each test file in its own process (pool: forks), so each file opens one store. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/client.js';
import { parseTarget } from '../../src/clickhouse/target.js';
import { migrate } from '../../src/store/migrate.js';
import { DEFAULT_NAMES, type StoreNames } from '../../src/store/schema.js';

export interface TempStore {
  readonly ch: ClickHouse;
  readonly names: StoreNames;
  readonly dir: string;
}

export async function openTempStore(database = 'default'): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), 'agentdrift-chdb-'));
  const ch = await openClickHouse(parseTarget(`chdb:${dir}`, database), {});
  const names: StoreNames = { database, ...DEFAULT_NAMES };
  await migrate(ch, names);
  return { ch, names, dir };
}
