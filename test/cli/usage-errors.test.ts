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
    ['accept without --reason', ['accept', 'CostPerSuccessUp'], /^error: required option '--reason <text>' not specified$/],
    ['a time that is not ISO-8601', ['backtest', '--from', 'yesterday'], /^error: option '--from <iso>' argument 'yesterday' is invalid\. must be an ISO-8601 time/],
    ['an unknown command', ['evaluate'], /^error: unknown command 'evaluate'/],
  ])('%s: the error, then where the usage is, not the help', (_name, args, first) => {
    const r = runCli(args, cwd);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(first);
    expect(lines[lines.length - 1]).toBe('(add --help for usage)');
    expect(r.stderr).not.toMatch(/Options:|Usage:/);
  });

  it('a duration\'s default shows as a duration', () => {
    const r = runCli(['rollup', '--help'], cwd);
    expect(r.stdout).toMatch(/\(default: 6h\)/);
    expect(r.stdout).not.toMatch(/21600000/);
  });

  it('demo says what it is in the command list', () => {
    const r = runCli(['--help'], cwd);
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(/demo a demo store: synthetic agent runs with four injected drifts/);
  });
});
