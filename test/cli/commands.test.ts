/**
 * The command line in process: one module per command (src/cli/commands/), an action returns its exit
 * code and main() reads it (nothing sets process.exitCode), errors are mapped once through the error
 * catalogue, and --group is parsed in one place.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { action, exitCodeOfRun } from '../../src/cli/command.js';
import { UsageError } from '../../src/cli/context.js';
import { buildProgram, main } from '../../src/cli/main.js';
import { oneOf, parseGroup } from '../../src/cli/options.js';

const RULES = resolve(__dirname, '../../rules');

async function run(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((stdout += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((stderr += String(c)), true));
  const before = process.cwd();
  if (cwd) process.chdir(cwd);
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    if (cwd) process.chdir(before);
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => {
  // Nothing sets it: main() returns the exit code, and bin/agentdrift.js sets it once.
  expect(process.exitCode).toBeUndefined();
});

describe('commands', () => {
  it('are listed in their order, one module each', () => {
    const names = buildProgram().commands.map((c) => c.name());
    expect(names).toEqual(['migrate', 'demo', 'rollup', 'check', 'eval', 'explain', 'status', 'backtest', 'accept', 'start', 'test-receivers']);
  });

  it('check returns 0 for good rules and 1 for bad ones', async () => {
    const good = await run(['check', RULES]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^SUCCESS: /);
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-cmd-'));
    writeFileSync(join(dir, 'bad.yaml'), 'groups:\n  - name: x\n    rules:\n      - alert: A\n        signal: nope\n');
    const bad = await run(['check', join(dir, 'bad.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/bad\.yaml:\d+:\d+: /);
  });

  it('usage and configuration errors exit 2 with one line; commander errors too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-cmd-'));
    writeFileSync(join(dir, 'bad.yaml'), 'clickhouse:\n  target: 12\nfoo: 1\n');
    const cases: [string[], RegExp][] = [
      [['eval', '--format', 'xml'], /^agentdrift: --format must be text or json\n$/],
      [['explain', 'X', '--format', 'yaml'], /^agentdrift: --format must be text or json\n$/],
      [['explain', 'X', '--group', 'workflow_id'], /^agentdrift: --group takes label=value, got "workflow_id"\n$/],
      [['accept', 'X', '--reason', 'r', '--group', '=x'], /^agentdrift: --group takes label=value, got "=x"\n$/],
      [['backtest', '--from', '2026-11-22T00:00:00Z', '--to', '2026-11-21T00:00:00Z'], /^agentdrift: --to must be after --from\n$/],
      [['migrate', '--print-sql'], /^agentdrift: --print-sql goes with --cluster <name>\n$/],
      [['demo', 'seed', '--append', '--if-empty'], /^agentdrift: --append and --if-empty exclude each other\n$/],
      [['status', '-c', join(dir, 'bad.yaml')], /^agentdrift: \S*bad\.yaml:\d+:\d+: /],
      [['status', '--clickhouse', 'foo:bar'], /^agentdrift: /],
      [['explain', 'NoSuchRule', '--rules', RULES], /^agentdrift: no rule named "NoSuchRule" in \S+rules; known rules: ToolCallsPerRunUp, PolicyActivationRateChanged, .*DurationP95UpFast\n$/],
      [['status', '-c', join(dir, 'none.yaml')], /^agentdrift: /],
      [['nope'], /error: unknown command 'nope'/],
      [['rollup', '--from', 'yesterday', '--to', '2026-11-21T00:00:00Z'], /^agentdrift: --from: cannot read "yesterday" as a time: /],
    ];
    for (const [args, stderr] of cases) {
      const r = await run(args, dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(stderr);
    }
  });

  it('--version and --help exit 0', async () => {
    expect((await run(['--version'])).code).toBe(0);
    expect((await run(['check', '--help'])).code).toBe(0);
  });
});

describe('--group', () => {
  it('is parsed once for explain and accept: label=value, the value may hold "="', () => {
    expect(parseGroup(undefined)).toEqual({});
    expect(parseGroup(['workflow_id=invoice_enrichment', 'tool=a=b', 'empty='])).toEqual({ workflow_id: 'invoice_enrichment', tool: 'a=b', empty: '' });
    expect(() => parseGroup(['tool'])).toThrow(new UsageError('--group takes label=value, got "tool"'));
    expect(() => parseGroup(['=x'])).toThrow(UsageError);
  });
});

describe('--format', () => {
  it('is one of the allowed values, or a usage error that names them', () => {
    expect(oneOf('--format', 'json', ['text', 'json'])).toBe('json');
    expect(() => oneOf('--format', 'yaml', ['text', 'json'])).toThrow(new UsageError('--format must be text or json'));
  });
});

describe('an action returns its exit code', () => {
  async function parse(returned: 0 | 1 | undefined): Promise<number> {
    const program = new Command('t').exitOverride();
    program
      .command('sub')
      .argument('<x>')
      .option('--y <y>')
      .action(
        action(async (x: string, o: { y?: string }) => {
          expect([x, o.y]).toEqual(['a', 'b']);
          return returned;
        }),
      );
    await program.parseAsync(['sub', 'a', '--y', 'b'], { from: 'user' });
    return exitCodeOfRun(program);
  }

  it('to main(), through the program it ran in', async () => {
    expect(await parse(1)).toBe(1);
    expect(await parse(0)).toBe(0);
    expect(await parse(undefined)).toBe(0);
  });
});
