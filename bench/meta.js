// What every bench/results/*.json file says about itself: what was measured, when, on what machine.
import { cpus, platform, arch, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the benchmarks write their figures (docs/benchmarks.md links to them). */
export const RESULTS_DIR = join(fileURLToPath(new URL('.', import.meta.url)), 'results');

/** The `meta` object written at the top of a results file. */
export function benchMeta(what) {
  const cores = cpus();
  return {
    measured: new Date().toISOString(),
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
