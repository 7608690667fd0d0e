/**
 * Whether a store is ready to be read: `agentdrift migrate` (or a demo seed) has created agent_runs.
 * Commands that only read (eval, explain, backtest) and the daemon started without --migrate/--demo
 * refuse a store that is not, with one line saying what is missing and what to run, instead of one
 * "unknown table" error per rule and tick. An embedded store whose directory does not exist is not
 * ready either, and is refused before it is opened: opening it would create the directory.
 */
import { ERR } from '../util/errors.js';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ClickHouseAccessError, type ClickHouse } from '../clickhouse/client.js';
import type { Target } from '../clickhouse/target.js';
import type { Logger } from '../log.js';
import { qualified, type StoreNames } from './schema.js';

export class StoreNotReadyError extends Error {
  override readonly name = 'StoreNotReadyError';
  readonly errorCode = ERR.STORE_NOT_READY;
  constructor(
    /** The store as the user named it (clickhouse.target / --clickhouse). */
    readonly store: string,
    readonly table: string,
  ) {
    super(`the store ${store} has no table ${table}: run \`agentdrift migrate\` (or \`agentdrift start --demo\` for demo data)`);
  }
}

/** database.agent_runs, as the message names it. */
export function agentRunsName(names: StoreNames): string {
  return `${names.database}.${names.agentRuns}`;
}

/** ClickHouse's UNKNOWN_DATABASE: a database migrate has not created is as definite an answer as a missing table. */
const UNKNOWN_DATABASE = '81';

/**
 * Whether agent_runs exists. EXISTS TABLE over identifiers checked by `qualified` (no values travel in
 * the statement), so it also answers on servers without bound parameters. Any other failure (the
 * server is down, the credentials are refused) is thrown: it says nothing about the table.
 */
export async function agentRunsExists(ch: ClickHouse, names: StoreNames): Promise<boolean> {
  try {
    const [row] = await ch.query<{ result: number | string }>(`EXISTS TABLE ${qualified(names.database, names.agentRuns)}`);
    return Number(row?.result ?? 0) === 1;
  } catch (err) {
    if (err instanceof ClickHouseAccessError && err.code === UNKNOWN_DATABASE) return false;
    throw err;
  }
}

/** Throws StoreNotReadyError when agent_runs does not exist; errors reaching the store are thrown as they are. */
export async function requireAgentRuns(ch: ClickHouse, names: StoreNames, store: string): Promise<void> {
  if (!(await agentRunsExists(ch, names))) throw new StoreNotReadyError(store, agentRunsName(names));
}

/**
 * An embedded (chDB) target whose directory does not exist: nothing was ever written there. Only a
 * plain "no such path" counts; anything else (a file in the way, no permission) is left to the open,
 * which explains it without creating anything.
 */
export function embeddedStoreMissing(target: Target): boolean {
  if (target.kind !== 'chdb') return false;
  try {
    statSync(resolve(target.path));
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Refuses, before anything is opened or created, an embedded store whose directory does not exist. */
export function refuseMissingEmbeddedStore(target: Target, names: StoreNames, store: string): void {
  if (embeddedStoreMissing(target)) throw new StoreNotReadyError(store, agentRunsName(names));
}

/**
 * The daemon's check at start (without --migrate or the demo, nothing creates agent_runs): a store
 * without it is refused once, here, instead of failing every rule on every tick. A store that cannot
 * be asked (down, credentials refused) is not refused: that is an outage, which the daemon rides out
 * as an error state, reporting it on every evaluation and in /readyz as it always has.
 */
export async function checkStoreAtStart(ch: ClickHouse, names: StoreNames, store: string, logger: Logger): Promise<void> {
  let exists: boolean;
  try {
    exists = await agentRunsExists(ch, names);
  } catch (err) {
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, `cannot check that ${agentRunsName(names)} exists; starting anyway (evaluations report the store's state)`);
    return;
  }
  if (!exists) throw new StoreNotReadyError(store, agentRunsName(names));
}
