/**
 * Reading rule files from disk: files and directories in, one RuleSet (or every problem) out.
 * A load with any problem yields no RuleSet at all, so a half-valid set never runs: the caller keeps
 * its previous rules instead (Prometheus' "previous rule set restored").
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { deepFreeze } from '../yaml/freeze.js';
import { fileProblem, ioReason, readSourceFile, sortProblems } from '../yaml/source.js';
import type { Problem } from '../yaml/problem.js';
import type { RuleGroup, RuleSet } from './types.js';
import { newNameRegistry, parseRuleText } from './validate.js';

export interface RuleLoadResult {
  /** Null when there is any problem. Deep-frozen. */
  readonly ruleSet: RuleSet | null;
  /** Every problem of every file, sorted by file, line and column. */
  readonly problems: Problem[];
  /** The rule files that were read (directories expanded), in load order. */
  readonly files: string[];
  /** The files among `files` that hold no document at all (empty or comments only). */
  readonly blankFiles: string[];
}

export interface RuleText {
  readonly file: string;
  readonly text: string;
}

const RULE_FILE = /\.ya?ml$/i;

/** Validates already-read rule texts together (names must be unique across all of them). */
export function parseRules(texts: readonly RuleText[]): { ruleSet: RuleSet | null; problems: Problem[]; blankFiles: string[] } {
  const names = newNameRegistry();
  const groups: RuleGroup[] = [];
  const problems: Problem[] = [];
  const blankFiles: string[] = [];
  for (const { file, text } of texts) {
    const r = parseRuleText(text, file, names);
    if (r.blank) blankFiles.push(file);
    // One by one: spreading 100,000 problems of a broken file into push() overflows the stack.
    for (const g of r.groups) groups.push(g);
    for (const p of r.problems) problems.push(p);
  }
  if (problems.length > 0) return { ruleSet: null, problems: sortProblems(problems), blankFiles };
  return { ruleSet: deepFreeze({ groups }), problems: [], blankFiles };
}

/**
 * Loads rule files. A directory contributes its *.yml / *.yaml files (not recursive, hidden files
 * skipped, sorted by name); a file is read whatever its extension. Missing paths are problems.
 */
export async function loadRuleFiles(paths: readonly string[], opts: { maxFileBytes?: number } = {}): Promise<RuleLoadResult> {
  const problems: Problem[] = [];
  const files = await expandPaths(paths, problems);
  const texts: RuleText[] = [];
  for (const file of files) {
    // Bounded (MAX_FILE_BYTES): a stray huge file is refused with its size, not read whole.
    const r = await readSourceFile(file, 'rule file', { maxBytes: opts.maxFileBytes, hint: 'split the rules over several files' });
    if (r.problem) problems.push(r.problem);
    else texts.push({ file, text: r.text });
  }
  const parsed = parseRules(texts);
  const all = sortProblems([...problems, ...parsed.problems]);
  return { ruleSet: all.length > 0 ? null : parsed.ruleSet, problems: all, files, blankFiles: parsed.blankFiles };
}

async function expandPaths(paths: readonly string[], problems: Problem[]): Promise<string[]> {
  const out: string[] = [];
  // The same file named twice (or a file and its directory) would otherwise duplicate every alert name.
  const seen = new Set<string>();
  const add = (f: string): void => {
    const key = path.resolve(f);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(f);
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      problems.push(fileProblem(p, ioReason(e)));
      continue;
    }
    if (!st.isDirectory()) {
      add(p);
      continue;
    }
    let names: string[];
    try {
      names = (await readdir(p)).filter((n) => RULE_FILE.test(n) && !n.startsWith('.')).sort();
    } catch (e) {
      problems.push(fileProblem(p, `cannot read directory: ${ioReason(e)}`));
      continue;
    }
    const before = out.length;
    for (const n of names) {
      const f = path.join(p, n);
      try {
        if ((await stat(f)).isFile()) add(f);
      } catch {
        // A dangling symlink is not a rule file; nothing to report about a file that is not there.
      }
    }
    // An empty rules directory means no alert can ever fire; that is worth a word, not silence.
    if (out.length === before && names.length === 0) problems.push(fileProblem(p, 'no rule files (*.yml, *.yaml) in directory'));
  }
  return out;
}
