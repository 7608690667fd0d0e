/**
 * A usage error says what is wrong in one line and where the usage is, instead of burying the error
 * under the whole help (issue: "without --reason, a parser error and the whole help").
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const cwd = mkdtempSync(join(tmpdir(), 'agentdrift-usage-'));

describe('usage errors', () => {
  it.each([
    ['an unknown command', ['evaluate'], /^error: unknown command 'evaluate'/],
  ])('%s: the error, then where the usage is, not the help', (_name, args, first) => {
    const r = runCli(args, cwd);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(first);
    expect(lines[lines.length - 1]).toBe('(add --help for usage)');
    expect(r.stderr).not.toMatch(/Options:|Usage:/);
  });

  it.each([
    ['accept without --reason', ['accept', 'CostPerSuccessUp'], 'agentdrift: accept needs --reason TEXT (why this is the new normal)'],
    ['accept with an empty --reason', ['accept', 'CostPerSuccessUp', '--reason', ' '], 'agentdrift: accept needs --reason TEXT (why this is the new normal)'],
    [
      'a time that cannot be read',
      ['backtest', '--from', 'yesterday'],
      'agentdrift: --from: cannot read "yesterday" as a time: use an ISO-8601 time (2026-11-22T09:00:00Z), now, or a time relative to now such as -7d, -12h or -1h30m',
    ],
    ['eval --at that cannot be read', ['eval', '--at', 'soon'], /^agentdrift: --at: cannot read "soon" as a time: /],
  ])('%s: one line that says what to pass', (_name, args, line) => {
    const r = runCli(args, cwd);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line instanceof RegExp ? line : new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  it('a duration\'s default shows as a duration', () => {
    const r = runCli(['rollup', '--help'], cwd);
    expect(r.stdout).toMatch(/\(default: 6h\)/);
    expect(r.stdout).not.toMatch(/21600000/);
  });

  it('demo says what it is in the command list', () => {
    const r = runCli(['--help'], cwd);
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(/demo the demo fleet: `demo seed` writes 28 days of synthetic runs of nine agent workflows with drifts injected for the default rules to find \(what `npm start` seeds\)/);
  });
});
