/**
 * An explanation as people read it: the full text of `agentdrift explain`, and the few lines every
 * notification carries (summarize). Plain text: escaping is each renderer's job.
 */
import { humanize } from '../util/format.js';
import type { Cause, Explanation, ExplanationSummary, Part, WhatMoved } from './types.js';

const HOUR = 3_600_000;

/** "2026-11-17 09:00 UTC" */
export function utcMinute(t: number): string {
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function weekday(t: number): string {
  return new Date(t).toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' });
}

/** "11 minutes", "3 h 20 min", "18 seconds" */
export function span(ms: number): string {
  const a = Math.abs(ms);
  if (a < 60_000) return `${Math.round(a / 1000)} seconds`;
  if (a < HOUR) return `${Math.round(a / 60_000)} minutes`;
  const h = Math.floor(a / HOUR);
  const m = Math.round((a - h * HOUR) / 60_000);
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** Dollars with three significant digits, so small per-run costs that moved still differ: "$0.0174 → $0.0190". */
const usd3 = (x: number | null) => (x === null || !Number.isFinite(x) ? 'n/a' : `${x < 0 ? '-' : ''}$${Number(Math.abs(x).toPrecision(3))}`);

const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? 'n/a' : `${Math.round(x * 100)}%`);

/**
 * Each part's share of the change as printed: its contribution's size over the sum of every part's
 * contribution size, |c| / Σ|c|. So shares are 0 to 100% and add up to 100% even when parts move in
 * opposite directions (a part's own signed contribution says which way it moved); the raw share
 * (c / change, in `Part.share` and JSON) can exceed 100% or be negative then. null when nothing moved.
 */
export function shownShare(p: Pick<Part, 'contribution'>, parts: readonly Pick<Part, 'contribution'>[]): number | null {
  const gross = parts.reduce((a, q) => a + (Number.isFinite(q.contribution) ? Math.abs(q.contribution) : 0), 0);
  if (!(gross > 0) || !Number.isFinite(p.contribution)) return null;
  return Math.abs(p.contribution) / gross;
}

/** A share as printed: "93%", "<1%" for a part that moved a little, "0%" for one that did not move. */
export function sharePct(x: number | null): string {
  if (x === null) return 'n/a';
  if (x > 0 && x < 0.005) return '<1%';
  if (x < 1 && x > 0.995) return '>99%';
  return `${Math.round(x * 100)}%`;
}

function valueFmt(m: WhatMoved): (x: number | null) => string {
  if (m.kind === 'cost') return usd3;
  if (m.kind === 'fingerprints' || m.kind === 'policy_rules') return (x) => (x === null ? 'n/a' : `${Number((x * 100).toPrecision(3))}%`);
  return humanize;
}

function signed(x: number, fmt: (x: number | null) => string): string {
  return `${x >= 0 ? '+' : '-'}${fmt(Math.abs(x))}`;
}

/** "started 2026-11-17 09:00 UTC ± 1 h (Tuesday)" */
export function onsetLine(e: Pick<Explanation, 'onset'>): string | null {
  if (e.onset === null) return null;
  return `started ${utcMinute(e.onset.at)} ± ${span(e.onset.uncertaintyMs)} (${weekday(e.onset.at)})`;
}

function partLine(p: Part, m: WhatMoved): string {
  const fmt = valueFmt(m);
  const share = sharePct(shownShare(p, m.parts));
  if (m.kind === 'cost') {
    const factor = p.name === 'success rate' ? pct : usd3;
    return `${p.name} ${factor(p.baseline)} → ${factor(p.current)}: ${signed(p.contribution, fmt)} per success (${share} of the change)`;
  }
  if (m.kind === 'fingerprints') return `${p.name} (${p.status}) ${fmt(p.baseline)} → ${fmt(p.current)} of runs`;
  // A change in a rate is said in percentage points, so it does not read as a relative change.
  const delta = m.kind === 'policy_rules' ? `${p.contribution >= 0 ? '+' : '-'}${Number((Math.abs(p.contribution) * 100).toPrecision(3))} pp` : signed(p.contribution, fmt);
  return `${p.name} ${fmt(p.baseline)} → ${fmt(p.current)} (${delta}, ${share} of the change)`;
}

/** The parts that matter: those carrying at least 5% of the change, at most three. */
function mainParts(m: WhatMoved): Part[] {
  return m.parts.filter((p) => {
    const share = shownShare(p, m.parts);
    return share === null ? p.contribution !== 0 : share >= 0.05;
  }).slice(0, 3);
}

export function movedLine(m: WhatMoved): string | null {
  const parts = mainParts(m);
  return parts.length === 0 ? null : parts.map((p) => partLine(p, m)).join('; ');
}

export function causeLine(c: Cause): string {
  const lead =
    c.leadMs === null || c.firstSeen === null
      ? ''
      : `; first seen ${utcMinute(c.firstSeen)}, ${span(c.leadMs)} ${c.leadMs >= 0 ? 'before' : 'after'} the onset`;
  return `${c.dimension} ${c.value} explains ${pct(c.explained)} of the change (on ${pct(c.currentShare)} of current runs, ${pct(c.baselineShare)} before${lead})`;
}

export function causesLine(e: Pick<Explanation, 'attribution'>): string {
  const [first, ...rest] = e.attribution.causes;
  if (first === undefined) {
    // Dimensions with one value in the windows cannot carry a change; those with several share it.
    const shared = e.attribution.dimensions.filter((d) => d.values.length > 1).map((d) => d.dimension);
    return shared.length === 0 ? 'no dimension value changed with it' : `no single value: the change is spread over the values of ${shared.join(', ')}`;
  }
  return [causeLine(first), ...rest.slice(0, 1).map((c) => `also ${c.dimension} ${c.value} (${pct(c.explained)})`)].join('; ');
}

/** The few lines a notification carries (each renderer bounds them further to its medium's limits). */
export function summarize(e: Explanation): ExplanationSummary {
  return {
    onset: onsetLine(e),
    moved: movedLine(e.moved),
    cause: causesLine(e),
    examples: e.examples.slice(0, 5).map((x) => ({ runId: x.runId, traceId: x.traceId, ...(x.url ? { url: x.url } : {}) })),
  };
}

/** The full explanation as text, for `agentdrift explain`. */
export function formatExplanation(e: Explanation): string {
  const out: string[] = [];
  const where = Object.entries(e.labels).map(([k, v]) => `${k}=${v}`).join(' ');
  out.push(`${e.rule} ${where} as of ${new Date(e.at).toISOString()}`);
  const q = e.quantity;
  const change = q.baseline !== null && q.current !== null && q.baseline !== 0 ? ` (${q.current >= q.baseline ? '+' : ''}${((q.current / q.baseline - 1) * 100).toFixed(1)}%)` : '';
  const fmt = e.signal === 'cost_per_success' ? usd3 : (x: number | null) => (x === null ? 'n/a' : humanize(x));
  out.push(`${q.name}: ${fmt(q.baseline)} → ${fmt(q.current)}${change}, current window since ${utcMinute(e.windowStart)}`);
  out.push('');
  out.push('When it started');
  if (e.onset) {
    out.push(`  ${onsetLine(e)}`);
    // An interval of zero width says no more than the onset line's "± 1 h" (the hourly resolution).
    const interval = e.onset.high > e.onset.low ? `; 90% interval ${utcMinute(e.onset.low)} to ${utcMinute(e.onset.high)}` : '';
    out.push(`  hourly value ${fmt(e.onset.before)} before, ${fmt(e.onset.after)} after${interval} (${e.onset.hours} hours fitted)`);
  } else out.push('  no single clear step in the hourly values');
  out.push('');
  const m = e.moved;
  const vf = valueFmt(m);
  // The decomposition's total, named as such: for one tool's calls it is every tool's calls per run
  // (the parts are the tools), not the tool's value in the headline.
  const whole =
    m.kind === 'fingerprints'
      ? `${pct(m.change)} of runs moved between fingerprints`
      : m.kind === 'tool_calls'
        ? `${m.unit} over all tools ${vf(m.baseline)} → ${vf(m.current)}, by tool`
        : `${m.unit} ${vf(m.baseline)} → ${vf(m.current)}`;
  out.push(`What moved (${whole})`);
  for (const p of m.parts.slice(0, 6)) out.push(`  ${partLine(p, m)}`);
  out.push('');
  out.push('Which change caused it');
  if (e.attribution.causes.length === 0) out.push(`  ${causesLine(e)}`);
  for (const c of e.attribution.causes) out.push(`  ${causeLine(c)}`);
  // Pinned dimensions first, then those whose values share the change, then single-valued ones.
  const order = (d: Explanation['attribution']['dimensions'][number]) => (!d.spread ? 0 : d.values.length > 1 ? 1 : 2);
  for (const d of [...e.attribution.dimensions].sort((a, b) => order(a) - order(b))) {
    const top = d.values.map((v) => `${v.value} ${pct(v.explained)}`).join(', ');
    const how = !d.spread ? 'pinned' : d.values.length > 1 ? 'spread' : 'one value';
    out.push(`  ${d.dimension.padEnd(15)} ${how.padEnd(9)} ${top}`);
  }
  out.push('');
  out.push('Runs that show it');
  if (e.examples.length === 0) out.push('  none');
  for (const x of e.examples) {
    out.push(`  ${x.runId}  trace ${x.traceId}  ${new Date(x.timestamp).toISOString()}  value ${humanize(x.value)}${x.url ? `  ${x.url}` : ''}`);
  }
  return out.join('\n');
}
