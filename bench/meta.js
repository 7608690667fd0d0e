// What every bench/results/*.json file says about itself: what was measured, when, on what machine.
import { execFileSync } from 'node:child_process';
import { cpus, platform, arch, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the benchmarks write their figures (docs/benchmarks.md links to them). */
export const RESULTS_DIR = join(fileURLToPath(new URL('.', import.meta.url)), 'results');

/** The commit measured, `+dirty` when the work tree had changes; null outside a git checkout. */
function commit() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? '+dirty' : ''}`;
  } catch {
    return null;
  }
}

/** The `meta` object written at the top of a results file. */
export function benchMeta(what) {
  const cores = cpus();
  return {
    measured: new Date().toISOString(),
    commit: commit(),
    machine: {
      cpus: cores.length,
      cpu_model: cores[0]?.model ?? null,
      memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
      node: process.version,
      platform: `${platform()} ${arch()} ${release()}`,
    },
    what,
  };
}
