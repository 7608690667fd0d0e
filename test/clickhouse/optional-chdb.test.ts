/** chdb is optional: without it, a server target works and the embedded default says what to do. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

const HOOK = resolve(__dirname, '../helpers/without-chdb.mjs');

function run(args: string[]) {
  const cwd = mkdtempSync(join(tmpdir(), 'agentdrift-nochdb-'));
  const r = spawnSync(process.execPath, ['--import', HOOK, BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stderr: r.stderr };
}

describe('without the optional chdb package', () => {
  it('the embedded default fails with what to do, not a stack trace', () => {
    const r = run(['status']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^agentdrift: the embedded store needs the optional package "chdb", which is not installed\. Run `npm install chdb`/);
    expect(r.stderr).toMatch(/--clickhouse http:\/\/host:8123\/database/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a server target never loads chdb', () => {
    const r = run(['status', '--clickhouse', 'http://127.0.0.1:1/default']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is unreachable/);
    expect(r.stderr).not.toMatch(/chdb/);
  });
});
