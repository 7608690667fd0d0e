/**
 * Which change caused it (pure): given, per dimension value, the share of the change it explains
 * (computed in ClickHouse, see sql.ts), decide which values the change is pinned on.
 *
 * The explained share of a value v for a ratio quantity R = X/N (s = v's share of N, r = its ratio,
 * 1 = current window, 0 = baseline) is
 *
 *     c_v = s1_v (r1_v - R0) - s0_v (r0_v - R0),     Σ_v c_v = R1 - R0,
 *
 * how far v's runs sit above the baseline's overall value now, minus how far they did before. It adds
 * up over the values of a dimension, it is 0 for a value whose runs behave as before at the same share,
 * and a value that replaced another (a new prompt version) gets the change its runs carry.
 *
 * Explaining much is not enough to be the cause: a value that holds half the runs explains half of a
 * change spread evenly over all values. So a value is a cause only when it explains most of the change
 * (at least MIN_EXPLAINED) and either explains clearly more than its share of the units
 * (concentration: the rest of the runs moved less) or is itself a change (its share of the units grew
 * by at least MIN_SHARE_GROWTH: a new prompt version, a model switch). Ranking is by explained share,
 * never by frequency.
 */
import type { Attribution, Cause, ValueShare } from './types.js';

/** A cause explains at least this share of the change. */
export const MIN_EXPLAINED = 0.5;
/** ... and explains this much more than its share of the current units, */
export const MIN_CONCENTRATION = 0.25;
/** ... or its share of the units grew by this much between the windows. */
export const MIN_SHARE_GROWTH = 0.2;
/** A value first seen this close to the onset is flagged as having appeared with the change. */
export const NEAR_ONSET_MS = 6 * 3_600_000;
/** Values listed per dimension. */
const TOP_VALUES = 3;

export function isCause(v: ValueShare): boolean {
  if (!Number.isFinite(v.explained) || v.explained < MIN_EXPLAINED) return false;
  return v.explained - v.currentShare >= MIN_CONCENTRATION || v.currentShare - v.baselineShare >= MIN_SHARE_GROWTH;
}

/**
 * `changed`: whether there is a change to explain at all (the alert's condition holds, or the hourly
 * series has a clear step). Without one the explained shares are ratios of noise to noise, and
 * nothing is pinned.
 */
export function attribute(values: readonly ValueShare[], onsetAt: number | null, changed = true): Attribution {
  const byDim = new Map<string, ValueShare[]>();
  for (const v of values) {
    if (!Number.isFinite(v.explained)) continue;
    let list = byDim.get(v.dimension);
    if (!list) byDim.set(v.dimension, (list = []));
    list.push(v);
  }
  const causes: Cause[] = [];
  const dimensions = [...byDim].map(([dimension, list]) => {
    const ranked = [...list].sort((a, b) => b.explained - a.explained || a.value.localeCompare(b.value));
    const pinned = changed ? ranked.filter(isCause) : [];
    for (const v of pinned) {
      const near = onsetAt !== null && v.appeared && v.firstSeen !== null && Math.abs(onsetAt - v.firstSeen) <= NEAR_ONSET_MS;
      causes.push({ ...v, leadMs: near ? onsetAt! - v.firstSeen! : null });
    }
    return { dimension, values: ranked.slice(0, TOP_VALUES), spread: pinned.length === 0 };
  });
  causes.sort((a, b) => b.explained - a.explained || Number(b.leadMs !== null) - Number(a.leadMs !== null) || a.dimension.localeCompare(b.dimension));
  return { causes, dimensions };
}
