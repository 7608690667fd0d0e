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
}

export async function checkPaths(paths: readonly string[]): Promise<CheckResult> {
  const { ruleSet, problems, files, blankFiles } = await loadRuleFiles(paths);
  if (ruleSet === null || problems.length > 0) {
    return { ok: false, output: formatProblems(problems).join('\n') };
  }
  const groups = ruleSet.groups.length;
  const rules = ruleSet.groups.reduce((n, g) => n + g.rules.length, 0);
  const summary = `SUCCESS: ${plural(files.length, 'file')}, ${plural(groups, 'group')}, ${plural(rules, 'rule')}`;
  return { ok: true, output: [...blankFiles.map(blankFileWarning), summary].join('\n') };
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
