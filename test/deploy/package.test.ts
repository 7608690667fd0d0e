/**
 * The package as a user gets it: `npm pack` of a clean copy of this working tree (as a fresh clone
 * packs it: prepack builds dist/), the tarball's file list (what the README points package users to,
 * no dead source maps, no tests, benchmarks or sources), then the tarball installed into an empty
 * directory and its `agentdrift` run from another one: --version, the pinned demo daemon until an
 * alert fires, a clean SIGTERM, then eval and explain on the store it left.
 *
 * Packing and installing copy the embedded engine (chDB, ~550 MB) from the npm cache, hence the long
 * timeouts. The pack runs in a copy so that its clean build never touches this tree's dist/, which other
 * test files run at the same time.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative, resolve, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLauncher, type LiveProcess } from '../helpers/cli.js';
import { DEMO_END_ISO } from '../helpers/demo.js';

const ROOT = resolve(__dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** npm's own environment when the suite runs under `npm test` would point npm at this project. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(lifecycle_|package_|config_(local_prefix|prefix|global)$)/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

function npm(args: string[], cwd: string, timeoutMs: number): SpawnSyncReturns<string> {
  return spawnSync('npm', args, { cwd, env: npmEnv(), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
}

const describeRun = (r: SpawnSyncReturns<string>) => `exit ${r.status} ${r.signal ?? ''} ${r.error?.message ?? ''}\n${r.stdout}\n${r.stderr}`;

const json = (line: string): Record<string, unknown> => {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return {};
  }
};

let work: string;
let tarball: string;
let files: string[];
let proc: LiveProcess | null = null;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'agentdrift-package-'));
  // A clone's working tree: everything but what a clone does not have (dependencies, builds, data).
  const clone = join(work, 'clone');
  const skip = new Set(['node_modules', 'dist', 'data', '.git', 'scratch']);
  cpSync(ROOT, clone, { recursive: true, filter: (src) => !skip.has(relative(ROOT, src).split(sep)[0]!) });
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  const out = join(work, 'pack');
  mkdirSync(out);
  const packed = npm(['pack', '--json', '--pack-destination', out], clone, 300_000);
  expect(packed.status, describeRun(packed)).toBe(0);
  const start = packed.stdout.search(/^\[/m);
  expect(start, describeRun(packed)).toBeGreaterThanOrEqual(0);
  const [info] = JSON.parse(packed.stdout.slice(start)) as { filename: string; files: { path: string }[] }[];
  tarball = join(out, info!.filename);
  files = info!.files.map((f) => f.path);
  expect(existsSync(tarball)).toBe(true);
}, 300_000);

afterAll(async () => {
  if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships what the README points package users to, and nothing of the development tree', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'bin/agentdrift.js', 'dist/cli/main.js', 'rules/default.yaml', 'agentdrift.example.yaml', 'docker-compose.yml']) {
      expect(files, f).toContain(f);
    }
    for (const dir of ['rules/', 'grafana/dashboards/', 'grafana/provisioning/', 'deploy/', 'deploy/clickhouse/users.d/', 'docs/']) {
      expect(files.some((f) => f.startsWith(dir)), dir).toBe(true);
    }
    // Every file docker-compose.yml mounts from deploy/ and grafana/ is in the package.
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const mounted = [...compose.matchAll(/- \.\/((?:deploy|grafana)\/[^:\s]+):/g)].map((m) => m[1]!);
    expect(mounted.length).toBeGreaterThan(3);
    for (const m of mounted) expect(files.some((f) => f === m || f.startsWith(`${m.replace(/\/$/, '')}/`)), m).toBe(true);
    for (const dev of ['src/', 'test/', 'bench/', '.ci/', 'data/', 'node_modules/']) {
      expect(files.filter((f) => f.startsWith(dev)), dev).toEqual([]);
    }
    expect(files.filter((f) => /\.test\.[cm]?[jt]s$|\.tsbuildinfo$/.test(f))).toEqual([]);
  });

  it('has no source map that points at a file it does not ship', () => {
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    const tar = spawnSync('tar', ['-xzf', tarball, '-C', unpacked], { encoding: 'utf8' });
    expect(tar.status, tar.stderr).toBe(0);
    const shipped = new Set(files);
    const dead: string[] = [];
    for (const map of files.filter((f) => f.endsWith('.map'))) {
      const m = JSON.parse(readFileSync(join(unpacked, 'package', map), 'utf8')) as { sources?: string[]; sourcesContent?: (string | null)[]; sourceRoot?: string };
      (m.sources ?? []).forEach((source, i) => {
        if (typeof m.sourcesContent?.[i] === 'string') return; // self-contained
        const target = posix.normalize(posix.join(posix.dirname(map), m.sourceRoot ?? '', source));
        if (!shipped.has(target)) dead.push(`${map} -> ${source}`);
      });
    }
    expect(dead).toEqual([]);
  });

  it('installs into an empty directory and runs from another: --version, the demo daemon until an alert fires, eval, explain', async () => {
    const install = join(work, 'install');
    mkdirSync(install);
    writeFileSync(join(install, 'package.json'), '{ "name": "agentdrift-install-test", "private": true }\n');
    const installed = npm(['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], install, 480_000);
    expect(installed.status, describeRun(installed)).toBe(0);
    const bin = join(install, 'node_modules', '.bin', 'agentdrift');
    expect(existsSync(bin)).toBe(true);
    const pkgDir = realpathSync(join(install, 'node_modules', 'agentdrift'));

    // Another directory: no package, no rules/, a config with a port the OS picks and the data here.
    const elsewhere = join(work, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'agentdrift.yaml'), 'clickhouse:\n  target: chdb:./data\nstate_file: ./data/agentdrift-state.json\nlisten: 127.0.0.1:0\n');
    const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: elsewhere, encoding: 'utf8', timeout: 180_000, maxBuffer: 64 * 1024 * 1024 });

    const version = run(['--version']);
    expect(version.status, describeRun(version)).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);

    // The demo, pinned: seeded to end at DEMO_END_ISO, and the daemon's clock starting there.
    proc = startLauncher(bin, ['start', '--demo', '--now', DEMO_END_ISO, '--demo-end', DEMO_END_ISO], elsewhere);
    const starting = await proc.waitFor((l) => json(l).msg === 'agentdrift starting', 60_000);
    expect(json(starting).files).toEqual([join(pkgDir, 'rules', 'default.yaml')]);
    expect(json(starting).target).toBe(`chdb:${join(elsewhere, 'data')} (database default)`);
    const firing = await proc.waitFor((l) => json(l).to === 'firing', 120_000);
    expect(json(firing)).toMatchObject({ level: 'warn', app: 'agentdrift', from: expect.any(String) });
    const serving = proc.lines.find((l) => json(l).msg === 'serving /alerts, /metrics, /healthz, /readyz, /api/v1 and the web UI at /');
    expect(serving, proc.lines.slice(-10).join('\n')).toBeDefined();
    expect((await fetch(`${String(json(serving!).url)}/healthz`)).status).toBe(200);
    proc.child.kill('SIGTERM');
    const code = await Promise.race([proc.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000))]);
    expect({ code, tail: proc.lines.slice(-5) }).toMatchObject({ code: 0 });
    expect(existsSync(join(elsewhere, 'data', 'agentdrift-state.json'))).toBe(true);

    const evaluated = run(['eval', '--at', DEMO_END_ISO, '--format', 'json']);
    expect(evaluated.status, describeRun(evaluated)).toBe(0);
    const rows = JSON.parse(evaluated.stdout) as { state: string; signal: string; key: string; labels: Record<string, string> }[];
    expect(rows.filter((r) => r.state === 'firing').map((r) => `${r.signal}:${r.labels.workflow_id}:${r.key}`)).toEqual(
      expect.arrayContaining([
        'tool_calls_per_run:invoice_enrichment:enrich_company',
        'policy_activation_rate:support_triage:',
        'cost_per_success:refund_processing:',
        'output_schema_shift:report_generation:',
      ]),
    );

    const explained = run(['explain', 'ToolCallsPerRunUp', '--group', 'workflow_id=invoice_enrichment', 'tool=enrich_company', '--at', DEMO_END_ISO]);
    expect(explained.status, describeRun(explained)).toBe(0);
    expect(explained.stdout).toMatch(/^ToolCallsPerRunUp workflow_id=invoice_enrichment tool=enrich_company as of 2026-11-22T03:00:00\.000Z$/m);
    expect(explained.stdout).toMatch(/^ {2}prompt_version enrich-v13 explains/m);
    // Nothing was written next to the package or into this directory but the data and the config.
    expect(existsSync(join(elsewhere, 'rules'))).toBe(false);
    expect(existsSync(join(pkgDir, 'data'))).toBe(false);
  }, 600_000);
});
