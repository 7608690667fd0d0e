/**
 * The web UI's charts as inline SVG strings, drawn on the server: a page is readable (and its charts
 * visible) without JavaScript, and nothing needs a chart library. Every text that reaches the markup
 * goes through esc().
 */
import { esc } from './html.js';

export interface Point {
  readonly t: number;
  readonly v: number | null;
}

function extent(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) return [lo - (Math.abs(lo) || 1) * 0.1, hi + (Math.abs(hi) || 1) * 0.1];
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

const f = (x: number) => (Math.round(x * 10) / 10).toString();

/** A path through the points with values, broken where a value is missing. */
function linePath(points: readonly Point[], x: (t: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (p.v === null || !Number.isFinite(p.v)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${f(x(p.t))},${f(y(p.v))}`;
    pen = true;
  }
  return d;
}

/** A small line of the series' recent values with its baseline dashed; a dot when there is one value. */
export function sparkline(points: readonly Point[], baseline: number | null, label: string, w = 120, h = 28): string {
  const vals = points.map((p) => p.v).filter((v): v is number => v !== null && Number.isFinite(v));
  if (vals.length === 0) return `<svg class="spark" width="${w}" height="${h}" role="img" aria-label="${esc(label)}: no values yet"></svg>`;
  const [lo, hi] = extent(baseline === null ? vals : [...vals, baseline]);
  const t0 = points[0]!.t;
  const t1 = points[points.length - 1]!.t;
  const x = (t: number) => (t1 === t0 ? w - 3 : 2 + ((t - t0) / (t1 - t0)) * (w - 5));
  const y = (v: number) => h - 2 - ((v - lo) / (hi - lo)) * (h - 4);
  const base = baseline === null ? '' : `<line class="base" x1="0" x2="${w}" y1="${f(y(baseline))}" y2="${f(y(baseline))}"/>`;
  const last = points.filter((p) => p.v !== null).at(-1)!;
  return (
    `<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(label)}">` +
    `${base}<path class="line" d="${linePath(points, x, y)}"/><circle class="dot" cx="${f(x(last.t))}" cy="${f(y(last.v!))}" r="2.2"/></svg>`
  );
}

export interface ChartInput {
  readonly hourly: readonly Point[];
  readonly baseline: number | null;
  readonly current: number | null;
  readonly onset: { readonly at: number; readonly low: number; readonly high: number; readonly before: number; readonly after: number } | null;
  readonly windowStart: number;
  readonly at: number;
  readonly format: (v: number) => string;
  readonly title: string;
}

/**
 * The hourly value of the quantity against its baseline: the hours as a line, the baseline dashed,
 * the current window shaded, the onset as a vertical line with its 90% interval as a band and the
 * fitted step (value before, value after) drawn over it.
 */
export function explanationChart(c: ChartInput, w = 760, h = 260): string {
  const m = { l: 64, r: 12, t: 14, b: 34 };
  const pts = c.hourly;
  if (pts.length === 0) return `<p class="muted">No hourly values to draw.</p>`;
  const vals = pts.map((p) => p.v).filter((v): v is number => v !== null && Number.isFinite(v));
  const extra = [c.baseline, c.current, c.onset?.before, c.onset?.after].filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
  const [lo, hi] = extent([...vals, ...extra]);
  const t0 = pts[0]!.t;
  const t1 = Math.max(c.at, pts[pts.length - 1]!.t);
  const x = (t: number) => m.l + ((Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0 || 1)) * (w - m.l - m.r);
  const y = (v: number) => m.t + (1 - (v - lo) / (hi - lo)) * (h - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<rect class="window" x="${f(x(c.windowStart))}" y="${m.t}" width="${f(x(c.at) - x(c.windowStart))}" height="${h - m.t - m.b}"><title>current window</title></rect>`);
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    parts.push(`<line class="grid" x1="${m.l}" x2="${w - m.r}" y1="${f(y(v))}" y2="${f(y(v))}"/><text class="tick" x="${m.l - 6}" y="${f(y(v) + 4)}" text-anchor="end">${esc(c.format(v))}</text>`);
  }
  const days = Math.ceil((t1 - t0) / 86_400_000);
  const every = days > 21 ? 7 : days > 10 ? 2 : 1;
  for (let d = Math.ceil(t0 / 86_400_000); d * 86_400_000 <= t1; d += every) {
    const t = d * 86_400_000;
    parts.push(`<text class="tick" x="${f(x(t))}" y="${h - m.b + 16}" text-anchor="middle">${esc(new Date(t).toISOString().slice(5, 10))}</text>`);
  }
  if (c.onset) {
    const o = c.onset;
    parts.push(`<rect class="onset-band" x="${f(x(o.low))}" y="${m.t}" width="${f(Math.max(1, x(o.high) - x(o.low)))}" height="${h - m.t - m.b}"/>`);
  }
  parts.push(`<path class="line" d="${linePath(pts, x, y)}"/>`);
  if (c.baseline !== null) parts.push(`<line class="base" x1="${m.l}" x2="${w - m.r}" y1="${f(y(c.baseline))}" y2="${f(y(c.baseline))}"><title>baseline ${esc(c.format(c.baseline))}</title></line>`);
  if (c.onset) {
    const o = c.onset;
    parts.push(
      `<path class="step" d="M${f(x(t0))},${f(y(o.before))}H${f(x(o.at))}V${f(y(o.after))}H${f(x(t1))}"/>` +
        `<line class="onset" x1="${f(x(o.at))}" x2="${f(x(o.at))}" y1="${m.t}" y2="${h - m.b}"><title>onset ${esc(new Date(o.at).toISOString())}</title></line>` +
        `<text class="onset-label" x="${f(x(o.at) + 4)}" y="${m.t + 12}">onset ${esc(new Date(o.at).toISOString().slice(0, 16).replace('T', ' '))} UTC</text>`,
    );
  }
  parts.push(`<line class="axis" x1="${m.l}" x2="${w - m.r}" y1="${h - m.b}" y2="${h - m.b}"/>`);
  return `<svg class="chart" id="explanation-chart" viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="${esc(c.title)}">${parts.join('')}</svg>`;
}
