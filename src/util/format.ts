/**
 * Owns how numbers are shown to people: in alert templates ({{ $value | humanize }}), notifications,
 * log lines and the eval-once table. One set of formatters, so the same value reads the same
 * everywhere. Durations are yaml/duration.ts's job.
 */

/** What every formatter prints for a missing value. */
export const NA = 'n/a';

/** A plain number as Prometheus prints one: NaN, +Inf and -Inf spelled its way, anything else as JavaScript does. */
/** An ISO-8601 time, or null for no time (JSON answers say null rather than leave the field out). */
export function isoOrNull(t: number | null | undefined): string | null {
  return t === null || t === undefined ? null : new Date(t).toISOString();
}

export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/** A relative change, signed: 0.8 -> "+80.0%", -0.25 -> "-25.0%". */
export function formatPercentChange(x: number | null): string {
  if (x === null) return NA;
  if (!Number.isFinite(x)) return `${formatNumber(x)}%`;
  const body = (Math.abs(x) * 100).toFixed(1);
  if (Number(body) === 0) return '0.0%';
  return `${x < 0 ? '-' : '+'}${body}%`;
}

const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

/** Three significant digits with a k/M/G suffix: 1234 -> "1.23k", 0.5 -> "0.5". */
export function humanize(x: number | null): string {
  if (x === null) return NA;
  if (!Number.isFinite(x)) return formatNumber(x);
  let a = Math.abs(x);
  let i = 0;
  while (a >= 1000 && i < SI.length - 1) {
    a /= 1000;
    i++;
  }
  let r = Number(a.toPrecision(3));
  // 999.7 rounds up to 1000: carry into the next suffix instead of printing "1000".
  if (r >= 1000 && i < SI.length - 1) {
    i++;
    r = Number((a / 1000).toPrecision(3));
  }
  return `${x < 0 ? '-' : ''}${String(r)}${SI[i]}`;
}

/** Dollars: "$1,234.50"; costs below a cent keep three significant digits ("$0.00421") so they do not read as $0.00. */
export function usd(x: number | null): string {
  if (x === null) return NA;
  if (!Number.isFinite(x)) return formatNumber(x);
  const a = Math.abs(x);
  let body: string;
  if (a !== 0 && a < 0.01) body = String(Number(a.toPrecision(3)));
  else {
    const [int, frac] = a.toFixed(2).split('.');
    body = `${int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac}`;
  }
  return `${x < 0 ? '-' : ''}$${body}`;
}

/**
 * A p-value: two significant digits, exponent form once it gets small: "0.034", "1e-12". A p-value of
 * exactly 0 is one too small for a double's 1 - cdf (about 1e-16) to tell from 0: "<1e-16".
 */
export function formatP(p: number | null): string {
  if (p === null) return NA;
  if (!Number.isFinite(p)) return formatNumber(p);
  if (p === 0) return '<1e-16';
  if (p !== 0 && p < 0.001) return p.toExponential(0).replace('e-0', 'e-');
  return String(Number(p.toPrecision(2)));
}
