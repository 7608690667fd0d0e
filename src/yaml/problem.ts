/**
 * Owns the vocabulary of "something is wrong at this spot in a file": SourcePos (file:line:col) and
 * Problem (a position plus a message), and how a problem is printed. Every loader (rules, config,
 * notify) reports in these terms; this folder is the lowest layer that needs them.
 */

/** Where a thing was written, for messages: file:line:col (1-based). */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** One validation problem, printed as `file:line:col: message`. */
export interface Problem extends SourcePos {
  readonly message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}
