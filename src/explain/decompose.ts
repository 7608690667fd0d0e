/**
 * What moved, per signal (pure): the change of the whole split into parts that add up to it.
 *
 *  - calls per run: the change in a group's calls per run is the sum of each tool's change in calls
 *    per run (a ratio with a common denominator is additive).
 *  - cost per success = (token cost per run + tool cost per run) / success rate. The three factors
 *    interact (a fall in the success rate raises both cost parts per success), so no simple split
 *    adds up; the Shapley decomposition does: each factor's part is its marginal effect of moving from
 *    the baseline value to the current one, averaged over the orders in which the factors can move.
 *    The parts add up exactly to the change, and a factor that did not move gets 0.
 *  - fingerprints: each fingerprint's change in share of runs; shares are relative to the mass that
 *    moved (the total variation distance), so a new fingerprint taking all the moved mass shows 100%.
 *  - policy rules: each denied rule's change in hits per decision (or per run); what the rules do not
 *    account for (a run with an activation but no rule name) is the part "other".
 */
import type { Part, WhatMoved } from './types.js';

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

const byMagnitude = (a: Part, b: Part) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.name.localeCompare(b.name);

export interface WindowCounts {
  /** Units of the denominator in each window: runs (tools, fingerprints), decisions or runs (policy). */
  readonly current: number;
  readonly baseline: number;
}

/** Per-key sums in each window: calls of a tool, runs with a fingerprint, hits of a denied rule. */
export type KeyCounts = ReadonlyMap<string, { readonly current: number; readonly baseline: number }>;

function rateParts(keys: KeyCounts, units: WindowCounts): { parts: Part[]; change: number; current: number | null; baseline: number | null } {
  let cur = 0;
  let base = 0;
  const raw = [...keys].map(([name, c]) => {
    const current = ratio(c.current, units.current);
    const baseline = ratio(c.baseline, units.baseline);
    cur += c.current;
    base += c.baseline;
    return { name, current, baseline, contribution: (current ?? 0) - (baseline ?? 0) };
  });
  const current = ratio(cur, units.current);
  const baseline = ratio(base, units.baseline);
  const change = (current ?? 0) - (baseline ?? 0);
  return { parts: raw.map((p) => ({ ...p, share: change !== 0 ? p.contribution / change : null })), change, current, baseline };
}

/** Per-tool contributions to the change in calls per run (all tools). */
export function toolCallParts(tools: KeyCounts, runs: WindowCounts): WhatMoved {
  const r = rateParts(tools, runs);
  return { kind: 'tool_calls', unit: 'calls per run', baseline: r.baseline, current: r.current, change: r.change, parts: r.parts.sort(byMagnitude) };
}

export interface CostWindow {
  readonly runs: number;
  readonly successes: number;
  readonly tokenCost: number;
  readonly toolCost: number;
}

export type CostKind = 'token' | 'tool' | 'total';

/**
 * Shapley values of f over factors that move from `from` to `to`: for each factor, the average over
 * all subsets S of the others of |S|!(k-|S|-1)!/k! · (f(S ∪ {i} at `to`) - f(S at `to`)).
 */
export function shapley(f: (v: readonly number[]) => number, from: readonly number[], to: readonly number[]): number[] {
  const k = from.length;
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  const out = new Array<number>(k).fill(0);
  for (let mask = 0; mask < 1 << k; mask++) {
    const size = popcount(mask);
    const at = (m: number) => f(from.map((x, j) => ((m >> j) & 1 ? to[j]! : x)));
    for (let i = 0; i < k; i++) {
      if ((mask >> i) & 1) continue;
      const w = (fact(size) * fact(k - size - 1)) / fact(k);
      out[i]! += w * (at(mask | (1 << i)) - at(mask));
    }
  }
  return out;
}

function popcount(m: number): number {
  let c = 0;
  for (let x = m; x; x &= x - 1) c++;
  return c;
}

/**
 * Cost per success split into the token-cost, tool-cost and success-rate parts (Shapley over
 * token cost per run, tool cost per run and success rate). For `cost: token` the tool part is 0 (the
 * rule does not count tool cost), and the other way round.
 */
export function costParts(current: CostWindow, baseline: CostWindow, kind: CostKind = 'total'): WhatMoved {
  const factors = (w: CostWindow): number[] | null =>
    w.runs > 0 && w.successes > 0 ? [kind === 'tool' ? 0 : w.tokenCost / w.runs, kind === 'token' ? 0 : w.toolCost / w.runs, w.successes / w.runs] : null;
  const a = factors(baseline);
  const b = factors(current);
  const f = (v: readonly number[]) => (v[0]! + v[1]!) / v[2]!;
  const names = ['token cost', 'tool cost', 'success rate'];
  if (a === null || b === null) {
    return { kind: 'cost', unit: 'USD per success', baseline: a && f(a), current: b && f(b), change: null, parts: [] };
  }
  const phi = shapley(f, a, b);
  const change = f(b) - f(a);
  const parts: Part[] = names.map((name, i) => ({
    name,
    // The factor itself (per run, or the rate) so a reader sees what moved, and its part of the change in USD per success.
    baseline: a[i]!,
    current: b[i]!,
    contribution: phi[i]!,
    share: change !== 0 ? phi[i]! / change : null,
  }));
  return { kind: 'cost', unit: 'USD per success', baseline: f(a), current: f(b), change, parts: parts.sort(byMagnitude) };
}

/** New, grown, shrunk and vanished fingerprints with their shares of runs in each window. */
export function fingerprintParts(fps: KeyCounts, runs: WindowCounts, top = 10): WhatMoved {
  const parts = [...fps].map(([name, c]) => {
    const current = ratio(c.current, runs.current) ?? 0;
    const baseline = ratio(c.baseline, runs.baseline) ?? 0;
    const status: Part['status'] = baseline === 0 ? 'new' : current === 0 ? 'vanished' : current >= baseline ? 'grown' : 'shrunk';
    return { name, current, baseline, contribution: current - baseline, status };
  });
  const moved = parts.reduce((s, p) => s + Math.abs(p.contribution), 0) / 2;
  return {
    kind: 'fingerprints',
    unit: 'share of runs',
    baseline: null,
    current: null,
    // The total variation distance: the share of runs whose fingerprint "moved".
    change: moved,
    parts: parts.map((p) => ({ ...p, share: moved > 0 ? p.contribution / moved : null })).sort(byMagnitude).slice(0, top),
  };
}

/**
 * Each denied policy rule's change in hits per decision (or per run), and "other" for activations no
 * rule name accounts for, so the parts add up to the change in the activation rate.
 */
export function policyRuleParts(rules: KeyCounts, activations: { readonly current: number; readonly baseline: number }, units: WindowCounts, perRun: boolean, top = 8): WhatMoved {
  const r = rateParts(rules, units);
  const current = ratio(activations.current, units.current);
  const baseline = ratio(activations.baseline, units.baseline);
  const change = (current ?? 0) - (baseline ?? 0);
  const parts: Part[] = r.parts.map((p) => ({ ...p, share: change !== 0 ? p.contribution / change : null }));
  const rest = change - r.change;
  if (Math.abs(rest) > 1e-12 * Math.max(1, Math.abs(change))) {
    parts.push({ name: 'other', current: null, baseline: null, contribution: rest, share: change !== 0 ? rest / change : null });
  }
  return { kind: 'policy_rules', unit: perRun ? 'runs with an activation' : 'activations per decision', baseline, current, change, parts: parts.sort(byMagnitude).slice(0, top) };
}
