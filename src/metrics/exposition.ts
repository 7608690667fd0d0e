/**
 * The Prometheus text format (0.0.4) of one metric family, written the way prom-client writes it
 * (`Registry.getMetricsAsString`), so that a family rendered here and one rendered by prom-client are
 * the same bytes. Used for the per-series gauges, whose labels are escaped once per series and scrape
 * instead of once per sample (test/metrics/scrape.test.ts compares both renderings).
 */

/** prom-client's escaping of a metric name or help text: backslash and newline. */
export function escapeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

const LABEL_SPECIALS = /[\\\n"]/;
const LABEL_SPECIALS_ALL = /[\\\n"]/g;
const LABEL_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '"': '\\"' };

/** prom-client's escaping of a label value: backslash, newline and double quote (in one pass). */
export function escapeLabelValue(s: string): string {
  return LABEL_SPECIALS.test(s) ? s.replace(LABEL_SPECIALS_ALL, (c) => LABEL_ESCAPES[c]!) : s;
}

/** prom-client's rendering of a sample value. */
export function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** The first two lines of a family: `# HELP name help` and `# TYPE name type`. */
export function familyHead(name: string, help: string, type: string): string {
  const escaped = escapeText(name);
  return `# HELP ${escaped} ${escapeText(help)}\n# TYPE ${escaped} ${type}`;
}

/**
 * A sample is written as three pieces: `lineStart(name)` (the newline before it, the name and `{`),
 * the series' label text, and `sampleRest(extra, value)` (a label after the series' own, if any, `}`
 * and the value). The label text is thus never copied into a line of its own.
 */
export function lineStart(name: string): string {
  return `\n${escapeText(name)}{`;
}

export function sampleRest(extra: string, value: number): string {
  return `${extra}} ${valueText(value)}`;
}

/**
 * The samples of a family whose label sets may repeat, in the order first set: setting a label set
 * again replaces its value in place, as a prom-client gauge does.
 */
export class RepeatedSamples {
  private readonly samples = new Map<string, readonly [labels: string, rest: string]>();

  set(labels: string, extra: string, value: number): void {
    this.samples.set(labels + extra, [labels, sampleRest(extra, value)]);
  }

  writeTo(out: string[], start: string): void {
    for (const [labels, rest] of this.samples.values()) out.push(start, labels, rest);
  }
}
