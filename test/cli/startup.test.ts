/**
 * How the command line fails to start, as an operator meets it: one clear line on stderr and an exit
 * code, never a stack trace (an embedded store another process holds, one it cannot write, a file in
 * the way, a corrupt state file); and the packaged agentdrift, run from anywhere, finds its own rules.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unexpected } from '../../src/cli/main.js';
import { BIN, metricsUrlOf, runCli, startCli, type LiveProcess } from '../helpers/cli.js';

const ROOT = resolve(__dirname, '../..');

/**
 * Exactly one line on stderr besides the daemon's JSON log lines, starting "agentdrift: ", with no
 * stack frame and no raw engine output.
 */
function expectOneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n').filter((l) => !l.startsWith('{"level":'));
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^agentdrift: /);
  expect(stderr).not.toMatch(/\n\s+at |DB::Exception|ChdbConnectionError/);
  return lines[0]!;
}

describe('startup failures are one line and an exit code', () => {
  let cwd: string;
  let daemon: LiveProcess | null = null;

  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'agentdrift-startup-'));
    writeFileSync(join(cwd, 'agentdrift.yaml'), 'listen: 127.0.0.1:0\n');
    expect(runCli(['migrate'], cwd).code).toBe(0);
  });

  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
  });

  it('an embedded store held by a running daemon: "in use by another process", exit 1 (status and eval ask the daemon)', async () => {
    daemon = startCli(['start'], cwd);
    await metricsUrlOf(daemon); // serving: it holds the store
    // The commands that read ask the daemon instead (test/cli/beside-daemon.test.ts); migrate cannot.
    for (const args of [['status'], ['eval']]) expect(runCli(args, cwd), args.join(' ')).toMatchObject({ code: 0 });
    for (const args of [['migrate'], ['demo', 'seed']]) {
      const r = runCli(args, cwd);
      expect(r.code, args.join(' ')).toBe(1);
      const line = expectOneLine(r.stderr);
      expect(line).toBe(
        `agentdrift: the embedded store ${join(cwd, 'data')} is in use by another process (pid ${daemon.child.pid}, probably another agentdrift): ` +
          'one process at a time may open a chDB directory; stop that one, or point both at a ClickHouse server',
      );
    }
    // A second daemon meets the state file's lock first (it shares that too): see test/faults/.
    const second = runCli(['start'], cwd);
    expect(second.code).toBe(1);
    expect(expectOneLine(second.stderr)).toMatch(new RegExp(`^agentdrift: state file ${join(cwd, 'data', 'agentdrift-state.json')} is locked by another agentdrift \\(pid ${daemon.child.pid} on `));
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    // Released on a clean stop: the next process opens it.
    expect(runCli(['status'], cwd).code).toBe(0);
  });

  it('a corrupt state file: one line naming the file and where it was moved, exit 1 (more in test/faults/)', () => {
    const state = join(cwd, 'data', 'agentdrift-state.json');
    writeFileSync(state, '{"version": 2, "alerts": [');
    const r = runCli(['start'], cwd);
    expect(r.code).toBe(1);
    expect(expectOneLine(r.stderr)).toMatch(new RegExp(`^agentdrift: alert state file ${state} is corrupt \\(not valid JSON: .*\\): moved it aside to ${state}\\.corrupt-\\d{8}T\\d{6}Z; not starting: `));
  });

  it('a data directory that cannot be created: one line, exit 1', () => {
    writeFileSync(join(cwd, 'a-file'), '');
    const r = runCli(['status', '--clickhouse', 'chdb:a-file/data'], cwd);
    expect(r.code).toBe(1);
    expect(expectOneLine(r.stderr)).toBe(
      `agentdrift: the embedded store directory ${join(cwd, 'a-file', 'data')} cannot be created: a file is in the way; remove it, or point clickhouse.target (--clickhouse) at another directory`,
    );
  });

  it('a data directory this user cannot write: one line, exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-readonly-'));
    mkdirSync(join(dir, 'data'));
    chmodSync(join(dir, 'data'), 0o555);
    chmodSync(dir, 0o755);
    // root writes anywhere: run as nobody there (uid 65534), as the user itself elsewhere.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = spawnSync(process.execPath, [BIN, 'status', '--clickhouse', 'chdb:data'], { cwd: dir, encoding: 'utf8', timeout: 60_000, ...asNobody });
    expect(r.status, r.stderr).toBe(1);
    expect(expectOneLine(r.stderr)).toBe(
      `agentdrift: the embedded store directory ${join(dir, 'data')} is not writable (permission denied): chDB writes there even to read; give this user write access, or point clickhouse.target (--clickhouse) at another directory`,
    );
  });

  it('invalid rules: the first 100 problems, then how many more, exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-manyproblems-'));
    const rules = Array.from({ length: 250 }, (_, i) => `      - alert: A${i}\n        signal: nope\n        threshold: 20%\n`).join('');
    writeFileSync(join(dir, 'r.yaml'), `groups:\n  - name: g\n    interval: 5m\n    rules:\n${rules}`);
    writeFileSync(join(cwd, 'many.yaml'), `rules: [${JSON.stringify(dir)}]\nlisten: 127.0.0.1:0\nstate_file: ./many-state.json\n`);
    const r = runCli(['start', '--config', 'many.yaml'], cwd);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('{"level":'));
    expect(lines[0]).toBe('agentdrift: invalid rules, not starting:');
    expect(lines.slice(1, -1)).toHaveLength(100);
    for (const l of lines.slice(1, -1)) expect(l).toMatch(new RegExp(`^${dir}/r\\.yaml:\\d+:17: signal: unknown signal "nope"`));
    expect(lines.at(-1)).toBe('... and 150 more problems');
  });

  it('a port in use: one line, exit 1', async () => {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      writeFileSync(join(cwd, 'busy.yaml'), `listen: 127.0.0.1:${port}\nstate_file: ./busy-state.json\n`);
      const r = runCli(['start', '--config', 'busy.yaml'], cwd);
      expect(r.code).toBe(1);
      expect(expectOneLine(r.stderr)).toMatch(new RegExp(`^agentdrift: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      server.close();
    }
  });
});

describe('unexpected errors', () => {
  const system = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), { code: 'ENOENT' });
  it.each([
    ['a plain error says what happened', new Error('cannot listen on 127.0.0.1:9464: boom\nmore'), {}, 'agentdrift: cannot listen on 127.0.0.1:9464: boom'],
    ['a system error too', system, {}, "agentdrift: ENOENT: no such file or directory, open '/x'"],
    ['a TypeError is a bug, and says how to see where', new TypeError('x is undefined'), {}, 'agentdrift: TypeError: x is undefined (a bug: AGENTDRIFT_DEBUG=1 prints where)'],
    ['a thrown string', 'weird', {}, 'agentdrift: weird'],
  ])('%s', (_name, e, env, expected) => {
    expect(unexpected(e, env)).toBe(expected);
  });

  it('AGENTDRIFT_DEBUG=1 prints the stack trace', () => {
    const e = new TypeError('x is undefined');
    expect(unexpected(e, { AGENTDRIFT_DEBUG: '1' })).toBe(`agentdrift: ${e.stack}`);
  });
});

describe('the packed package', () => {
  let pkg: string;

  beforeAll(() => {
    // `npm pack` gives exactly the files a user installs. Installing them needs the registry (or a
    // full cache), so the test unpacks the tarball and lends it this repository's node_modules.
    const out = mkdtempSync(join(tmpdir(), 'agentdrift-pack-'));
    const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', out], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(packed.status, packed.stderr).toBe(0);
    const tarball = join(out, packed.stdout.trim().split('\n').at(-1)!);
    expect(spawnSync('tar', ['-xzf', tarball, '-C', out]).status).toBe(0);
    pkg = join(out, 'package');
    symlinkSync(resolve(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  });

  it('ships the launcher, the compiled code, the default rules, the example config, README and LICENSE', () => {
    for (const f of ['bin/agentdrift.js', 'dist/cli/main.js', 'rules/default.yaml', 'agentdrift.example.yaml', 'README.md', 'LICENSE', 'package.json']) {
      expect(existsSync(join(pkg, f)), f).toBe(true);
    }
    expect(existsSync(join(pkg, 'src'))).toBe(false);
    expect(existsSync(join(pkg, 'test'))).toBe(false);
    expect(readFileSync(join(pkg, 'LICENSE'), 'utf8')).toContain('Apache License\n                           Version 2.0, January 2004');
    expect((JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { license: string }).license).toBe('Apache-2.0');
  });

  it('started from any directory without a config, runs its own shipped rules', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'agentdrift-elsewhere-'));
    const bin = join(pkg, 'bin', 'agentdrift.js');
    expect(spawnSync(process.execPath, [bin, 'migrate'], { cwd: elsewhere, encoding: 'utf8' }).status).toBe(0);
    // The daemon as a user starts it: no config, no rules/ here. It says which rule files it loaded.
    const child = spawn(process.execPath, [bin, 'start'], { cwd: elsewhere, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const starting = await new Promise<string>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`no "agentdrift starting" line:\n${output}`)), 60_000);
      const onData = (b: Buffer) => {
        output += b.toString('utf8');
        const line = output.split('\n').find((l) => l.includes('"msg":"agentdrift starting"'));
        if (line) {
          clearTimeout(t);
          res(line);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', () => rej(new Error(`exited before starting:\n${output}`)));
    });
    // (Without a config it listens on 127.0.0.1:9464; if that is taken it has stopped already.)
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    expect((JSON.parse(starting) as { files: string[] }).files).toEqual([join(pkg, 'rules', 'default.yaml')]);
    expect(output).not.toMatch(/no such file or directory|invalid rules/);
    expect(existsSync(join(elsewhere, 'rules'))).toBe(false);
    const version = spawnSync(process.execPath, [bin, '--version'], { cwd: elsewhere, encoding: 'utf8' });
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('the package does not depend on the repository around it', () => {
    // The launcher and the rules path resolve from the package itself: copying it elsewhere keeps working.
    const copy = join(mkdtempSync(join(tmpdir(), 'agentdrift-copy-')), 'agentdrift');
    cpSync(pkg, copy, { recursive: true, verbatimSymlinks: true });
    const r = spawnSync(process.execPath, [join(copy, 'bin', 'agentdrift.js'), 'check', join(copy, 'rules')], { cwd: tmpdir(), encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('SUCCESS: 1 file, 2 groups, 13 rules');
  });
});
