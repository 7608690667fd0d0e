/**
 * A rule load result cut into pieces small enough to cross from the loading worker to the daemon's
 * thread without blocking it (loadOffThread.ts), and put back together. Deserializing and freezing
 * 10k rules in one go would block the thread for a noticeable time; a piece of RULES_PER_PIECE
 * rules does not (figures: docs/benchmarks.md, "Rule loading").
 */
import { deepFreeze } from '../yaml/freeze.js';
import type { Problem } from '../yaml/problem.js';
import type { RuleLoadResult } from './load.js';
import type { Rule, RuleGroup } from './types.js';

export const RULES_PER_PIECE = 100;
const PROBLEMS_PER_PIECE = 500;

export interface LoadRequest {
  readonly paths: readonly string[];
  readonly maxFileBytes?: number;
}

export type LoadPiece =
  /** Some rules of group `index`; the group's other keys come with its first piece. */
  | { readonly kind: 'rules'; readonly index: number; readonly group: Omit<RuleGroup, 'rules'>; readonly rules: readonly Rule[] }
  | { readonly kind: 'problems'; readonly problems: readonly Problem[] }
  /** The last piece: whether the load yielded a rule set, and the files read. */
  | { readonly kind: 'done'; readonly valid: boolean; readonly files: readonly string[]; readonly blankFiles: readonly string[] };

export function piecesOf(r: RuleLoadResult): LoadPiece[] {
  const out: LoadPiece[] = [];
  for (let i = 0; i < r.problems.length; i += PROBLEMS_PER_PIECE) out.push({ kind: 'problems', problems: r.problems.slice(i, i + PROBLEMS_PER_PIECE) });
  r.ruleSet?.groups.forEach((g, index) => {
    const { rules, ...group } = g;
    // A group with no rules still needs one piece to exist.
    for (let i = 0; i === 0 || i < rules.length; i += RULES_PER_PIECE) out.push({ kind: 'rules', index, group, rules: rules.slice(i, i + RULES_PER_PIECE) });
  });
  out.push({ kind: 'done', valid: r.ruleSet !== null, files: r.files, blankFiles: r.blankFiles });
  return out;
}

/** Puts the pieces back together, one at a time (`add` returns the result after the `done` piece). */
export class PieceAssembler {
  private readonly groups: { group: Omit<RuleGroup, 'rules'>; rules: Rule[] }[] = [];
  private readonly problems: Problem[] = [];

  add(p: LoadPiece): RuleLoadResult | null {
    if (p.kind === 'problems') {
      for (const x of p.problems) this.problems.push(x);
      return null;
    }
    if (p.kind === 'rules') {
      const g = (this.groups[p.index] ??= { group: p.group, rules: [] });
      // Frozen piece by piece: the final freeze then meets only frozen objects and stops at once.
      for (const rule of p.rules) g.rules.push(deepFreeze(rule));
      return null;
    }
    const groups: RuleGroup[] = this.groups.map((g) => deepFreeze({ ...g.group, rules: g.rules }));
    return { ruleSet: p.valid ? Object.freeze({ groups: Object.freeze(groups) }) : null, problems: this.problems, files: [...p.files], blankFiles: [...p.blankFiles] };
  }
}
