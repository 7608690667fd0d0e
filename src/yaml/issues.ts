/**
 * Issues from a schema library (zod 4's `error.issues`, or anything with the same shape) -> Problems
 * with positions. Sections validated outside this folder (receivers, route) can keep their schema in
 * zod and still report `file:line:col` like the rest of the file.
 */
import type { Problem } from '../rules/types.js';
import { labelOf, quote } from './check.js';
import { problemAt, type Path, type YamlSource } from './source.js';

export interface SchemaIssue {
  readonly code?: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  /** Set on `unrecognized_keys` issues. */
  readonly keys?: readonly string[];
}

/**
 * `base` is where the validated value sits in the file (e.g. ['receivers']). Unknown keys point at
 * each key, every other issue at its value.
 */
export function issuesToProblems(source: YamlSource, issues: readonly SchemaIssue[], base: Path = []): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const path: Path = [...base, ...issue.path.map((s) => (typeof s === 'number' ? s : String(s)))];
    if (issue.code === 'unrecognized_keys' && issue.keys !== undefined) {
      const where = labelOf(path) || 'document';
      for (const k of issue.keys) out.push(problemAt(source, [...path, k], `unknown key ${quote(k)} in ${where}`, 'key'));
    } else {
      const label = labelOf(path);
      out.push(problemAt(source, path, label === '' ? issue.message : `${label}: ${issue.message}`));
    }
  }
  return out;
}
