/**
 * Fault: the state file (or its journal) cannot be used. The real CLI daemon must never overwrite it:
 * it is moved aside with a timestamp, the start is refused with one line naming both files and exit
 * code 1, nothing is written in its place, and the refusal holds until `start --fresh-state`.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileStamp } from '../../src/persist/moveAside.js';
import { metricsUrlOf, runCli, startCli } from '../helpers/cli.js';

/**
 * The daemon's clock in these tests. `--now` starts the clock there and it then advances in real
 * time, so the moved-aside name carries NOW plus however long the start took before it opened the
 * state file (a second or more on a loaded machine): the first test reads the stamp back and checks
 * it lies in [NOW, NOW + 60 s).
 */
const NOW = '2026-12-03T17:15:00Z';
let STAMP = '';

/** The names the stamp may take: --now plus up to a minute, to the second, as moveAside writes it. */
const STAMPS_WITHIN_A_MINUTE = Array.from({ length: 60 }, (_, s) => fileStamp(Date.parse(NOW) + s * 1000));

let cwd: string;
let state: string;

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'agentdrift-corrupt-'));
  writeFileSync(join(cwd, 'agentdrift.yaml'), 'listen: 127.0.0.1:0\nstate_file: ./state/agentdrift-state.json\n');
  expect(runCli(['migrate'], cwd).code).toBe(0);
  state = join(cwd, 'state', 'agentdrift-state.json');
});

/** The one line on stderr besides JSON log lines; fails on a stack trace or a second line. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n').filter((l) => !l.startsWith('{"level":'));
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const stateDirFiles = () => readdirSync(join(cwd, 'state')).sort();

/** Starts the daemon and stops it cleanly once it serves (what --fresh-state should allow). */
async function startsAndStops(args: string[]): Promise<string[]> {
  const p = startCli(args, cwd);
  await metricsUrlOf(p);
  await p.waitFor((l) => l.includes('agentdrift started'), 60_000);
  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(0);
  return p.lines;
}

describe('a corrupt or unreadable state file is moved aside, never overwritten, and the start refused', () => {
  it('corrupt state file (truncated JSON): moved aside with a timestamp, one line naming both files, exit 1, nothing written', () => {
    mkdirSync(join(cwd, 'state'), { recursive: true });
    const corrupt = '{"version": 3, "savedAt": 5, "alerts": [';
    writeFileSync(state, corrupt);
    const r = runCli(['start', '--now', NOW], cwd);
    expect(r.code).toBe(1);
    const files = stateDirFiles();
    expect(files).toHaveLength(1);
    STAMP = files[0]!.replace(/^agentdrift-state\.json\.corrupt-/, '');
    expect(STAMPS_WITHIN_A_MINUTE).toContain(STAMP);
    const moved = `${state}.corrupt-${STAMP}`;
    expect(oneLine(r.stderr)).toMatch(
      new RegExp(`^agentdrift: alert state file ${esc(state)} is corrupt \\(not valid JSON: [^\\n]*\\): moved it aside to ${esc(moved)}; not starting: start with --fresh-state to begin with empty state \\(firing alerts are sent again\\), or put a good copy back at ${esc(state)}$`),
    );
    // The bytes are kept as they were; nothing took the file's place; the lock was released.
    expect(readFileSync(moved, 'utf8')).toBe(corrupt);
    expect(stateDirFiles()).toEqual([`agentdrift-state.json.corrupt-${STAMP}`]);
  });

  it('a second start after that is refused too (not a silent fresh start), naming the moved file', () => {
    const r = runCli(['start', '--now', NOW], cwd);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      `agentdrift: alert state file ${state} was moved aside to ${state}.corrupt-${STAMP} because it could not be read; not starting: start with --fresh-state to begin with empty state (firing alerts are sent again), or put a good copy back at ${state}`,
    );
    expect(existsSync(state)).toBe(false);
  });

  it('--fresh-state starts with empty state, and the next plain start reads the new file', async () => {
    await startsAndStops(['start', '--fresh-state', '--now', NOW]);
    const saved = JSON.parse(readFileSync(state, 'utf8')) as { version: number };
    expect(saved.version).toBe(3);
    // The corrupt copy is still there for a post-mortem.
    expect(existsSync(`${state}.corrupt-${STAMP}`)).toBe(true);
    await startsAndStops(['start', '--now', '2026-12-03T17:20:00Z']);
  });

  it('a state file that fails its schema (a firing alert without firedAt) is treated the same', () => {
    const record = { state: 'firing', activeAt: 0, firedAt: null, resolvedAt: null, lastEvalAt: 0, health: 'ok', lastError: null };
    writeFileSync(state, JSON.stringify({ version: 3, savedAt: 0, journalSeq: 0, alerts: [{ alert: 'A', labels: {}, record }], notifications: [] }));
    const r = runCli(['start', '--now', '2026-12-03T18:00:00Z'], cwd);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^agentdrift: alert state file .* is corrupt: alerts\[0\]\.record: a firing record needs firedAt: moved it aside to .*\.corrupt-20261203T1800\d\dZ; not starting/);
    expect(existsSync(state)).toBe(false);
  });

  it('unreadable state file (a directory where the file should be): moved aside, refused', () => {
    mkdirSync(state);
    const r = runCli(['start', '--now', '2026-12-03T18:05:00Z'], cwd);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(new RegExp(`^agentdrift: could not read alert state file ${esc(state)}: EISDIR.*: moved it aside to ${esc(state)}\\.corrupt-20261203T1805\\d\\dZ; not starting`));
    expect(existsSync(state)).toBe(false);
  });

  it('a corrupt journal line before the last: the journal is moved aside and the start refused', async () => {
    await startsAndStops(['start', '--fresh-state', '--now', '2026-12-03T18:10:00Z']);
    const journal = `${state}.journal`;
    writeFileSync(journal, '{"seq":1,"record":{}}\nnot json\n{"seq":3,"record":{}}\n');
    const before = readFileSync(state, 'utf8');
    const r = runCli(['start', '--now', '2026-12-03T18:15:00Z'], cwd);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      new RegExp(`^${esc(`agentdrift: state journal ${journal} is corrupt: line 2 is not a journal record: moved it aside to ${journal}.corrupt-`)}20261203T1815\\d\\dZ${esc(`; not starting: start with --fresh-state to begin with empty state (firing alerts are sent again), or put a good copy back at ${journal}`)}$`),
    );
    // The state file itself was fine and is untouched.
    expect(readFileSync(state, 'utf8')).toBe(before);
  });

  it('a torn last journal line (a crash in the middle of an append) is not corruption: the daemon starts', async () => {
    const journal = `${state}.journal`;
    writeFileSync(journal, '{"seq":99,"record":{"kind":"outcome"');
    const lines = await startsAndStops(['start', '--now', '2026-12-03T18:20:00Z']);
    expect(lines.join('\n')).toMatch(/last delivery journal record was cut short by a crash/);
  });
});
