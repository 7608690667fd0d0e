/**
 * How much input agentdrift accepts before it refuses, so a broken or hostile file costs a clear
 * message instead of memory, a stack overflow or minutes of parsing (docs/configuration.md, "Limits").
 */

/** Largest rule or config file read, in bytes (1 MiB). A rule set may span any number of files. */
export const MAX_FILE_BYTES = 1024 * 1024;

/** Deepest nesting of YAML collections (mappings and lists) in one file; rule files need 6. */
export const MAX_NESTING_DEPTH = 64;

/** Problems printed by `check`, a refused start or a failed reload; the rest are counted. */
export const MAX_PROBLEM_LINES = 100;

/** Longest problem message printed; longer ones (a pasted blob echoed back) are cut. */
export const MAX_MESSAGE_CHARS = 500;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${trim(n / 1024)} KiB`;
  return `${trim(n / (1024 * 1024))} MiB`;
}

function trim(x: number): string {
  return x.toFixed(1).replace(/\.0$/, '');
}
