/**
 * Multiple-testing correction. One rule tests every group (and, for tool calls, every tool in every
 * group), so an uncorrected 5% test would page on noise in some group every evaluation.
 *
 * Holm–Bonferroni: like Bonferroni it controls the family-wise error rate (the chance of any false
 * alert among the tests) under any dependence between the tests, which matters because groups share
 * agents, models and traffic. It is uniformly more powerful than Bonferroni: every test Bonferroni
 * rejects Holm rejects too, often more. Hochberg would be more powerful still but is only valid under
 * positive dependence, and Benjamini–Hochberg bounds the false discovery rate, not the chance of a
 * false page.
 */

/**
 * Holm-adjusted p-values, in the input order: compare each with the family-wise alpha directly.
 *
 * With the m defined p-values sorted ascending, p_(i) becomes max_{j<=i} min(1, (m - j + 1) p_(j)); the
 * running maximum keeps the adjusted values monotone in the raw ones. Nulls (tests that were undefined,
 * e.g. too few runs) stay null in place and do not count in m, since they cannot produce a false alert.
 * NaN is treated as null for the same reason.
 */
export function holmAdjust(pValues: readonly (number | null)[]): (number | null)[] {
  const defined: { index: number; p: number }[] = [];
  pValues.forEach((p, index) => {
    if (p !== null && !Number.isNaN(p)) defined.push({ index, p });
  });
  const m = defined.length;
  defined.sort((x, y) => x.p - y.p);

  const adjusted: (number | null)[] = pValues.map(() => null);
  let runningMax = 0;
  defined.forEach(({ index, p }, rank) => {
    runningMax = Math.max(runningMax, Math.min(1, (m - rank) * p));
    adjusted[index] = runningMax;
  });
  return adjusted;
}
