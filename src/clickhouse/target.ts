/**
 * Where the data lives, chosen by one setting (`clickhouse.target` in agentdrift.yaml or `--clickhouse`):
 *   chdb:<dir>                      embedded ClickHouse (chDB), data kept in <dir>; the default
 *   http(s)://host:port/database    a ClickHouse server over HTTP(S)
 * Credentials never come from this string: a user:password@ in the URL is refused, so a target can be
 * logged as it is.
 */
import { ERR } from '../util/errors.js';

export type Target =
  | { readonly kind: 'chdb'; readonly path: string; readonly database: string }
  | { readonly kind: 'http'; readonly url: string; readonly database: string; readonly tls: boolean };

export const DEFAULT_TARGET = 'chdb:./data';

export class TargetError extends Error {
  override readonly name = 'TargetError';
  readonly errorCode = ERR.TARGET;
}

export function parseTarget(spec: string, databaseOverride?: string): Target {
  const s = spec.trim();
  if (s.startsWith('chdb:')) {
    const path = s.slice('chdb:'.length);
    if (path === '') throw new TargetError('chdb target needs a directory: chdb:./data');
    return { kind: 'chdb', path, database: databaseOverride ?? 'default' };
  }
  if (s.startsWith('http://') || s.startsWith('https://')) {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new TargetError(`not a valid URL: ${JSON.stringify(s)}`);
    }
    if (u.username || u.password) {
      throw new TargetError(
        'credentials in the ClickHouse URL are not accepted; set AGENTDRIFT_CLICKHOUSE_USER and AGENTDRIFT_CLICKHOUSE_PASSWORD instead',
      );
    }
    const pathDb = decodeURIComponent(u.pathname.replace(/^\/+|\/+$/g, ''));
    const database = databaseOverride ?? (pathDb || 'default');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new TargetError(`invalid database name ${JSON.stringify(database)}`);
    const tls = u.protocol === 'https:';
    const port = u.port || (tls ? '8443' : '8123');
    return { kind: 'http', url: `${u.protocol}//${u.hostname}:${port}`, database, tls };
  }
  throw new TargetError(`unknown ClickHouse target ${JSON.stringify(s)}: use chdb:<dir> or http(s)://host:port/database`);
}

export function describeTarget(t: Target): string {
  return t.kind === 'chdb' ? `chdb:${t.path} (database ${t.database})` : `${t.url}/${t.database}`;
}
