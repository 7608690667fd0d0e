/**
 * Owns the vocabulary of "something is wrong at this spot in a file": SourcePos (file:line:col) and
 * Problem (a position plus a message), and how a problem is printed. Every loader (rules, config,
 * notify) reports in these terms; this folder is the lowest layer that needs them.
 */
import { MAX_MESSAGE_CHARS, MAX_PROBLEM_LINES } from './limits.js';

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

/** Quotes user text for a message, bounded so a pasted blob cannot flood the output. */
export function quote(s: string, max = 80): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}...` : s);
}

/** One line: `file:line:col: message`, the message cut at MAX_MESSAGE_CHARS and kept to its first line. */
export function formatProblem(p: Problem): string {
  const nl = p.message.indexOf('\n');
  let message = nl < 0 ? p.message : p.message.slice(0, nl);
  if (message.length > MAX_MESSAGE_CHARS) message = `${message.slice(0, MAX_MESSAGE_CHARS)}...`;
  return `${p.file}:${p.line}:${p.col}: ${message}`;
}

/**
 * The lines to print for a list of problems: the first `max`, then one line counting the rest, so a
 * file with thousands of mistakes still gives a readable (and bounded) report.
 */
export function formatProblems(problems: readonly Problem[], max: number = MAX_PROBLEM_LINES): string[] {
  const lines = problems.slice(0, max).map(formatProblem);
  const more = problems.length - lines.length;
  if (more > 0) lines.push(`... and ${more} more problem${more === 1 ? '' : 's'}`);
  return lines;
}
