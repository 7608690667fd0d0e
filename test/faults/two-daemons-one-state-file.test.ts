/**
 * Fault: a second daemon is started on the state file of a running one (each with its own store, so
 * only the state file is shared). It must refuse with one line naming the lock, before opening
 * anything; once the first is killed (SIGKILL, lock left behind), the next start takes the stale lock
 * over with a warning; a clean stop removes the lock.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsUrlOf, runCli, startCli, type LiveProcess } from '../helpers/cli.js';

let cwd: string;
let state: string;
let first: LiveProcess | null = null;

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'agentdrift-twodaemons-'));
  writeFileSync(join(cwd, 'agentdrift.yaml'), 'listen: 127.0.0.1:0\nstate_file: ./shared/agentdrift-state.json\n');
  expect(runCli(['migrate'], cwd).code).toBe(0);
  expect(runCli(['migrate', '--clickhouse', 'chdb:data2'], cwd).code).toBe(0);
  state = join(cwd, 'shared', 'agentdrift-state.json');
});

afterAll(() => {
  if (first && first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
});

describe('two daemons on one state file', () => {
  it('two daemons on one state file: the second refuses with one line naming the lock, exit 1', async () => {
    first = startCli(['start', '--now', '2026-12-03T17:00:00Z'], cwd);
    await metricsUrlOf(first);
    const lock = JSON.parse(readFileSync(`${state}.lock`, 'utf8')) as { pid: number; host: string; startedAt: string };
    expect(lock).toMatchObject({ pid: first.child.pid, host: hostname() });
    // The daemon's clock starts at --now and runs on: the lock is taken a few milliseconds later.
    expect(lock.startedAt).toMatch(/^2026-12-03T17:00:0\d\.\d{3}Z$/);

    const r = runCli(['start', '--clickhouse', 'chdb:data2'], cwd);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('{"level":'));
    expect(lines).toEqual([
      `agentdrift: state file ${state} is locked by another agentdrift (pid ${first.child.pid} on ${hostname()}, since ${lock.startedAt}; lock file ${state}.lock): ` +
        `two daemons on one state file would each send every alert. Stop the other one, give this one its own state_file, or remove ${state}.lock if you are sure it is not running`,
    ]);
    // Refused before it opened its store or wrote anything.
    expect(r.stderr).not.toMatch(/agentdrift starting/);
    expect(JSON.parse(readFileSync(`${state}.lock`, 'utf8'))).toMatchObject({ pid: first.child.pid });
  });

  it('a lock left by a daemon killed with SIGKILL is stale: the next start takes it over with a warning', async () => {
    first!.child.kill('SIGKILL');
    await first!.exited;
    expect(existsSync(`${state}.lock`)).toBe(true);

    const second = startCli(['start', '--clickhouse', 'chdb:data2', '--now', '2026-12-03T17:10:00Z'], cwd);
    const warning = await second.waitFor((l) => l.includes('taking over the stale lock'), 60_000);
    expect(JSON.parse(warning)).toMatchObject({ level: 'warn', pid: first!.child.pid });
    await metricsUrlOf(second);
    expect(JSON.parse(readFileSync(`${state}.lock`, 'utf8'))).toMatchObject({ pid: second.child.pid });

    // Released on a clean stop.
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(existsSync(`${state}.lock`)).toBe(false);
    expect(existsSync(state)).toBe(true);
  });
});
