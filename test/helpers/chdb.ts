/** An embedded ClickHouse (chDB) in a temp directory. chDB allows one engine per process, and vitest
 * runs each test file in its own process (pool: forks), so each file opens one store. */
import { mkdtempSync, rmSync } from 'node:fs';
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
  // A store takes hundreds of MB: removed when the file's process ends rather than with the run's temp
  // root (test/helpers/tmpRoot.ts), so a run holds one store per worker on disk, not one per file.
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const ch = await openClickHouse(parseTarget(`chdb:${dir}`, database), {});
  const names: StoreNames = { database, ...DEFAULT_NAMES };
  await migrate(ch, names);
  return { ch, names, dir };
}
