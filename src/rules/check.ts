/** `agentdrift check`: validate rule files offline, like `promtool check rules`. */
import { formatProblems } from '../yaml/problem.js';
import { loadRuleFiles } from './load.js';

export interface CheckResult {
  readonly ok: boolean;
  /**
   * One `file:line:col: message` line per problem (the first MAX_PROBLEM_LINES, then a count of the
   * rest), or a single SUCCESS line; no trailing newline.
   */
  readonly output: string;
  /** The same as `check --format json` prints it: counts, warnings and every problem with its position. */
  readonly json: CheckJson;
}

export interface CheckJson {
  readonly ok: boolean;
  readonly files: number;
  readonly groups: number;
  readonly rules: number;
  readonly warnings: readonly string[];
  readonly problems: readonly { readonly file: string; readonly line: number; readonly col: number; readonly message: string }[];
}

export async function checkPaths(paths: readonly string[]): Promise<CheckResult> {
  const { ruleSet, problems, files, blankFiles } = await loadRuleFiles(paths);
  const groups = ruleSet?.groups.length ?? 0;
  const rules = ruleSet?.groups.reduce((n, g) => n + g.rules.length, 0) ?? 0;
  const warnings = blankFiles.map(blankFileWarning);
  const ok = ruleSet !== null && problems.length === 0;
  const json: CheckJson = {
    ok,
    files: files.length,
    groups,
    rules,
    warnings: ok ? warnings : [],
    problems: problems.map((p) => ({ file: p.file, line: p.line, col: p.col, message: p.message })),
  };
  if (!ok) return { ok: false, output: formatProblems(problems).join('\n'), json };
  const summary = `SUCCESS: ${plural(files.length, 'file')}, ${plural(groups, 'group')}, ${plural(rules, 'rule')}`;
  return { ok: true, output: [...warnings, summary].join('\n'), json };
}

/**
 * Valid, but a running daemon will not drop a file's rules for it (a truncated file looks the same):
 * the warning says how to write an intended empty file.
 */
export function blankFileWarning(file: string): string {
  return `${file}: warning: the file is empty (no rules); write \`groups: []\` to say that it has none on purpose`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
