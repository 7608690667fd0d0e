/**
 * A parsed YAML file that still knows where everything was written. Validators work on the plain
 * value (`value`) and name what they complain about by its path (`['groups', 0, 'rules', 2, 'window']`);
 * the path is turned into a 1-based line:col only when a problem is reported, so validation code
 * never handles AST nodes.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Problem, SourcePos } from './problem.js';

export type Path = readonly (string | number)[];

/** What a problem points at: the key of a mapping entry (unknown keys) or its value (bad values). */
export type Anchor = 'key' | 'value';

export interface YamlSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

export interface ParsedYaml {
  readonly source: YamlSource;
  /** Syntax errors and warnings (unresolved tags, ...), with their positions. Empty when the file is sound. */
  readonly problems: Problem[];
}

export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // prettyErrors would append a multi-line code excerpt to each message; problems are one line each.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  const source: YamlSource = { file, doc, lineCounter };
  const problems: Problem[] = [...doc.errors, ...doc.warnings].map((e) => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    return { file, line, col, message: `YAML: ${firstLine(e.message)}` };
  });
  return { source, problems };
}

/**
 * The document as plain data (aliases resolved, keys as strings); undefined for an empty document.
 * Alias expansion is bounded so a "billion laughs" file is a problem, not an out-of-memory.
 */
export function plainValue(source: YamlSource): { value: unknown; problems: Problem[] } {
  if (source.doc.contents === null) return { value: undefined, problems: [] };
  try {
    return { value: source.doc.toJS({ maxAliasCount: 100 }) as unknown, problems: [] };
  } catch (e) {
    return { value: undefined, problems: [fileProblem(source.file, `YAML: ${firstLine((e as Error).message)}`)] };
  }
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return (i < 0 ? s : s.slice(0, i)).trim();
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && (node.source === '' || node.source === undefined);
}

/**
 * Where `path` was written. A path that does not fully exist (a missing key) resolves to its deepest
 * existing ancestor, so "missing key" problems point at the mapping that lacks it.
 */
export function positionOf(source: YamlSource, path: Path, anchor: Anchor = 'value'): SourcePos {
  const { doc } = source;
  let node: unknown = doc.contents;
  let best: Node | null = isNodeWithRange(node) ? node : null;
  let keyNode: Node | null = null;
  let complete = true;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
      if (pair === undefined) {
        complete = false;
        break;
      }
      keyNode = isNodeWithRange(pair.key) ? pair.key : null;
      node = pair.value;
      // An empty value (`window:`) has a zero-width range just after the colon; the key is a better spot.
      const here = isNodeWithRange(node) && !isEmptyScalar(node) ? node : keyNode;
      if (here !== null) best = here;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      keyNode = null;
      node = node.items[seg];
      if (isNodeWithRange(node)) best = node;
    } else {
      complete = false;
      break;
    }
  }
  const target = complete && anchor === 'key' && keyNode !== null ? keyNode : best;
  const offset = target?.range?.[0] ?? 0;
  const { line, col } = source.lineCounter.linePos(offset);
  return { file: source.file, line, col };
}

function isNodeWithRange(n: unknown): n is Node {
  return (isScalar(n) || isMap(n) || isSeq(n) || isAlias(n)) && Array.isArray((n as Node).range);
}

export function problemAt(source: YamlSource, path: Path, message: string, anchor: Anchor = 'value'): Problem {
  return { ...positionOf(source, path, anchor), message };
}

/** A problem about a file as a whole (unreadable, missing): it has no better position than its start. */
export function fileProblem(file: string, message: string): Problem {
  return { file, line: 1, col: 1, message };
}

/** Problems in reading order: file, then line, then column; ties keep the order they were found in. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => cmp(a.p.file, b.p.file) || a.p.line - b.p.line || a.p.col - b.p.col || a.i - b.i)
    .map(({ p }) => p);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
