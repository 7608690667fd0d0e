/**
 * withStore (src/cli/context.ts): the store a command opens is closed whatever the command does, and a
 * command that only reads gets it only when agent_runs exists. The store is a fake here.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClickHouse } from '../../src/clickhouse/client.js';

const state = vi.hoisted(() => ({ exists: 1, closed: 0, opened: 0 }));

vi.mock('../../src/clickhouse/client.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/clickhouse/client.js')>();
  return {
    ...orig,
    openClickHouse: vi.fn(async (target: ClickHouse['target']): Promise<ClickHouse> => {
      state.opened += 1;
      return {
        target,
        query: async <T>(sql: string) => (sql.startsWith('EXISTS TABLE') ? [{ result: state.exists }] : []) as T[],
        command: async () => undefined,
        insert: async () => undefined,
        ping: async () => undefined,
        close: async () => {
          state.closed += 1;
        },
      };
    }),
  };
});

const { withStore } = await import('../../src/cli/context.js');
const { defaultConfig } = await import('../../src/config/load.js');
const { parseTarget } = await import('../../src/clickhouse/target.js');
const { StoreNotReadyError } = await import('../../src/store/ready.js');

const spec = 'http://127.0.0.1:8123/default';
const config = (() => {
  const c = defaultConfig({});
  return { ...c, clickhouse: { ...c.clickhouse, target: parseTarget(spec), targetSpec: spec } };
})();

beforeEach(() => {
  state.exists = 1;
  state.closed = 0;
  state.opened = 0;
});

describe('withStore', () => {
  it('returns what the command returns, and closes the store', async () => {
    await expect(withStore(config, async (ch) => ch.target.kind, { ready: false })).resolves.toBe('http');
    expect(state).toMatchObject({ opened: 1, closed: 1 });
  });

  it('closes the store when the command throws, and throws that error', async () => {
    await expect(withStore(config, async () => Promise.reject(new Error('boom')), { ready: true })).rejects.toThrow('boom');
    expect(state).toMatchObject({ opened: 1, closed: 1 });
  });

  it('ready: a store without agent_runs is refused with the hint to migrate, and closed; the command does not run', async () => {
    state.exists = 0;
    const fn = vi.fn(async () => 1);
    await expect(withStore(config, fn, { ready: true })).rejects.toBeInstanceOf(StoreNotReadyError);
    expect(fn).not.toHaveBeenCalled();
    expect(state).toMatchObject({ opened: 1, closed: 1 });
  });

  it('not ready: the same store is opened for a command that creates it (migrate, demo seed, status)', async () => {
    state.exists = 0;
    await expect(withStore(config, async () => 0, { ready: false })).resolves.toBe(0);
    expect(state).toMatchObject({ opened: 1, closed: 1 });
  });
});
