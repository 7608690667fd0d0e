/**
 * Effect sizes for a categorical distribution (tool mix, output schema fingerprints), from raw counts
 * per key. A key missing from one side counts as 0 there.
 */

/** Counts per category; must be finite and >= 0. */
export type Counts = Readonly<Record<string, number>>;

function total(counts: Counts): number | null {
  let sum = 0;
  for (const c of Object.values(counts)) {
    if (!Number.isFinite(c) || c < 0) return null;
    sum += c;
  }
  return sum;
}

/** Each key's share of the total; null when there is no mass (or a count is invalid). */
export function shares(counts: Counts): Record<string, number> | null {
  const sum = total(counts);
  if (sum === null || sum === 0) return null;
  const out: Record<string, number> = {};
  for (const [key, c] of Object.entries(counts)) out[key] = c / sum;
  return out;
}

/** x log2(x / m) with the limit 0 at x = 0 (a category absent from one side contributes nothing there). */
function klTerm(x: number, m: number): number {
  return x === 0 ? 0 : x * Math.log2(x / m);
}

/**
 * Jensen–Shannon distance between the distributions of two count tables: the square root of the
 * JS divergence in bits. Unlike KL it is symmetric and finite when one side has categories the other
 * lacks (exactly the "new fingerprint" case), and with log base 2 it lies in [0, 1]: 0 for the same
 * shares, 1 for disjoint support, so a rule threshold reads the same across signals. The square root
 * makes it a metric. Null when either side has no mass.
 */
export function jensenShannonDistance(p: Counts, q: Counts): number | null {
  const sp = shares(p);
  const sq = shares(q);
  if (sp === null || sq === null) return null;
  let divergence = 0;
  for (const key of new Set([...Object.keys(sp), ...Object.keys(sq)])) {
    const a = sp[key] ?? 0;
    const b = sq[key] ?? 0;
    const m = (a + b) / 2;
    divergence += 0.5 * klTerm(a, m) + 0.5 * klTerm(b, m);
  }
  // Rounding can leave the sum a hair outside [0, 1]; the sqrt of a tiny negative would be NaN.
  return Math.sqrt(Math.min(1, Math.max(0, divergence)));
}

/**
 * Share of the current mass on keys with no baseline count (absent, or 0). A schema fingerprint never
 * seen before is the sharpest sign of an output change, and JS distance dilutes it when the new key is
 * small next to a reshuffle of old ones. Null when the current window has no mass.
 */
export function unseenShare(current: Counts, baseline: Counts): number | null {
  const currentTotal = total(current);
  if (currentTotal === null || currentTotal === 0 || total(baseline) === null) return null;
  let unseen = 0;
  for (const [key, c] of Object.entries(current)) {
    if ((baseline[key] ?? 0) === 0) unseen += c;
  }
  return unseen / currentTotal;
}
