/**
 * A parsed YAML file that still knows where everything was written. Validators work on the plain
 * value (`value`) and name what they complain about by its path (`['groups', 0, 'rules', 2, 'window']`);
 * the path is turned into a 1-based line:col only when a problem is reported, so validation code
 * never handles AST nodes.
 */
import { open } from 'node:fs/promises';
import { syntaxMessage } from './syntaxWording.js';
import { Composer, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Parser, visit, YAMLParseError, type CST, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { formatBytes, MAX_FILE_BYTES, MAX_NESTING_DEPTH } from './limits.js';
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

/**
 * Parses one YAML document. Bounded: nesting deeper than `maxDepth` collections is one positioned
 * problem (checked on the parser's token tree, which is built without recursion, before the composer,
 * which recurses once per level, ever sees it); duplicate keys are found in linear time (the yaml
 * package's own check compares every key with every other: minutes for a 1 MiB mapping).
 */
export function parseYaml(text: string, file: string, maxDepth: number = MAX_NESTING_DEPTH): ParsedYaml {
  const lineCounter = new LineCounter();
  let tokens: CST.Token[];
  try {
    tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  } catch (err) {
    // yaml's parser recurses per nesting level: thousands of levels (`- - - ...`) exhaust the stack
    // before firstTooDeep can look. That is the same mistake, said the same way.
    if (!(err instanceof RangeError)) throw err;
    const { source } = parseYaml('', file);
    return { source, problems: [{ file, line: 1, col: 1, message: `YAML: nested more than ${maxDepth} levels deep` }] };
  }
  const tooDeep = firstTooDeep(tokens, maxDepth);
  if (tooDeep !== null) {
    const { source } = parseYaml('', file);
    return { source, problems: [{ file, ...lineCounter.linePos(tooDeep), message: `YAML: nested more than ${maxDepth} levels deep` }] };
  }
  const doc = compose(tokens, text.length);
  const source: YamlSource = { file, doc, lineCounter };
  const problems: Problem[] = [...doc.errors, ...doc.warnings].map((e) => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    return { file, line, col, message: `YAML: ${syntaxMessage(e)}` };
  });
  if (doc.errors.length === 0) for (const p of keyProblems(source)) problems.push(p);
  return { source, problems };
}

/** yaml's parseDocument() from already parsed tokens (the depth check needed them first). */
function compose(tokens: readonly CST.Token[], length: number): Document.Parsed {
  // prettyErrors would append a multi-line code excerpt to each message; problems are one line each.
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false, keepSourceTokens: false });
  let doc: Document.Parsed | null = null;
  for (const d of composer.compose(tokens, true, length)) {
    if (doc === null) {
      doc = d;
      continue;
    }
    doc.errors.push(new YAMLParseError([d.range[0], d.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
    break;
  }
  // compose(..., forceDoc = true) always yields a document, an empty one for empty text.
  return doc!;
}

/** Offset of the first collection nested deeper than `maxDepth`, or null. Iterative: any depth is safe. */
function firstTooDeep(tokens: readonly CST.Token[], maxDepth: number): number | null {
  const stack: [CST.Token, number][] = [];
  for (const token of tokens) {
    stack.push([token, 0]);
    while (stack.length > 0) {
      const [t, depth] = stack.pop()!;
      switch (t.type) {
        case 'document':
          if (t.value) stack.push([t.value, depth]);
          break;
        case 'block-map':
        case 'block-seq':
        case 'flow-collection': {
          if (depth + 1 > maxDepth) return t.offset;
          for (const item of t.items) {
            if ('key' in item && item.key) stack.push([item.key, depth + 1]);
            if (item.value) stack.push([item.value, depth + 1]);
          }
          break;
        }
        default:
          break;
      }
    }
  }
  return null;
}

/**
 * Problems with mapping keys, which the plain value would hide: a repeated key ("Map keys must be
 * unique", as the yaml package says it and where it says it, but in linear time; scalar keys are
 * compared as text, since plain values have text keys) and a list or mapping used as a key (it
 * would become the text "[object Object]" or the like).
 */
function keyProblems(source: YamlSource): Problem[] {
  const problems: Problem[] = [];
  const at = (node: { range?: readonly number[] | null } | null, message: string) => {
    const { line, col } = source.lineCounter.linePos(node?.range?.[0] ?? 0);
    problems.push({ file: source.file, line, col, message });
  };
  visit(source.doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const k = pair.key;
        if (isScalar(k)) {
          const id = String(k.value);
          if (seen.has(id)) at(k, `YAML: ${syntaxMessage({ code: 'DUPLICATE_KEY', message: 'Map keys must be unique' })}`);
          else seen.add(id);
        } else if (k !== null && typeof k === 'object') {
          at(k as Node, 'YAML: a key must be plain text, not a list or mapping');
        }
      }
    },
  });
  return problems;
}

export type ReadResult = { readonly text: string; readonly problem?: undefined } | { readonly text?: undefined; readonly problem: Problem };

/**
 * Reads a text file of at most `maxBytes`: a larger one is refused without being read (a stray
 * 157 MB file must not be loaded whole). `what` names the file in messages ("rule file").
 */
export async function readSourceFile(file: string, what: string, opts: { maxBytes?: number; hint?: string } = {}): Promise<ReadResult> {
  const maxBytes = opts.maxBytes ?? MAX_FILE_BYTES;
  const tooLarge = (size: number): Problem =>
    fileProblem(file, `${what} is too large: ${formatBytes(size)} (${size} bytes), over the limit of ${formatBytes(maxBytes)}${opts.hint ? `; ${opts.hint}` : ''}`);
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    return { problem: fileProblem(file, `cannot read ${what}: ${ioReason(e)}`) };
  }
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) return { problem: tooLarge(size) };
    // The size can change between stat and read: read at most one byte past the limit to notice.
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > maxBytes) return { problem: tooLarge(n) };
    }
    return { text: buf.subarray(0, n).toString('utf8') };
  } catch (e) {
    return { problem: fileProblem(file, `cannot read ${what}: ${ioReason(e)}`) };
  } finally {
    await handle.close();
  }
}

export function ioReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (e as Error).message;
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
      const pair = pairsOf(node).get(String(seg));
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

/**
 * A mapping's entries by key text (the first of equal keys, as a scan would find). Built once per
 * mapping: a file with 100,000 unknown keys gets 100,000 positions in linear time, not quadratic.
 */
const pairIndex = new WeakMap<object, Map<string, Pair>>();
function pairsOf(map: YAMLMap): Map<string, Pair> {
  let index = pairIndex.get(map);
  if (index === undefined) {
    index = new Map();
    for (const p of map.items) {
      if (!isPair(p)) continue;
      const k = keyText(p.key);
      if (!index.has(k)) index.set(k, p);
    }
    pairIndex.set(map, index);
  }
  return index;
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
