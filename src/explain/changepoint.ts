/**
 * Onset: a single change-point in a ratio signal observed in hourly buckets (pure).
 *
 * Each hour h has sums X_h and N_h (calls and runs, activations and decisions, ...) and the value
 * r_h = X_h / N_h. A step at hour k splits the series into two segments with constant values; the
 * fit minimises the weighted squared error Σ N_h (r_h - m_seg)², whose segment means are ratios of
 * sums (the way every signal is computed), and hours with few runs weigh little (nights, weekends).
 * With prefix sums of X, N and X²/N each split costs O(1): SSE_seg = Σ X²/N - (ΣX)² / ΣN.
 *
 * Uncertainty: a residual bootstrap. The per-hour residuals, scaled by √N_h so they are exchangeable,
 * are resampled within each segment, added back to the fitted step, and the change-point refitted;
 * the central 90% of the refitted positions is the interval, and ± is its half-width (at least one
 * hour: the buckets' resolution). A deterministic generator makes the same data give the same answer.
 */
import type { Onset } from './types.js';

export interface HourlyPoint {
  /** Start of the hour (ms). */
  readonly t: number;
  readonly x: number;
  readonly n: number;
}

const HOUR = 3_600_000;

/** Segments must hold at least this many hours with data: a step at the very edge is noise. */
export const MIN_SEGMENT_HOURS = 3;

interface Fit {
  /** Index of the first point after the change. */
  readonly k: number;
  readonly sse: number;
  readonly before: number;
  readonly after: number;
}

/** The best single split of `pts` (each with n > 0), or null when there are too few points. */
export function bestSplit(pts: readonly { x: number; n: number }[], minSeg = MIN_SEGMENT_HOURS): Fit | null {
  const m = pts.length;
  if (m < 2 * minSeg) return null;
  const cx = new Float64Array(m + 1);
  const cn = new Float64Array(m + 1);
  const cq = new Float64Array(m + 1);
  for (let i = 0; i < m; i++) {
    const p = pts[i]!;
    cx[i + 1] = cx[i]! + p.x;
    cn[i + 1] = cn[i]! + p.n;
    cq[i + 1] = cq[i]! + (p.x * p.x) / p.n;
  }
  const sse = (a: number, b: number) => {
    const sx = cx[b]! - cx[a]!;
    const sn = cn[b]! - cn[a]!;
    return sn > 0 ? cq[b]! - cq[a]! - (sx * sx) / sn : 0;
  };
  let best: Fit | null = null;
  for (let k = minSeg; k <= m - minSeg; k++) {
    const e = sse(0, k) + sse(k, m);
    if (best === null || e < best.sse - 1e-12) {
      best = { k, sse: e, before: (cx[k]! - cx[0]!) / (cn[k]! - cn[0]!), after: (cx[m]! - cx[k]!) / (cn[m]! - cn[k]!) };
    }
  }
  return best;
}

/** mulberry32: a small deterministic generator (the bootstrap must give the same answer twice). */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function quantile(sorted: readonly number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i]!;
}

export interface OnsetOptions {
  readonly bootstrap?: number;
  readonly seed?: number;
  /**
   * A fitted step smaller than this many standard errors of the segment difference is not a change:
   * no onset is reported rather than a position chosen by noise.
   */
  readonly minZ?: number;
}

/** The onset of a single step in `points` (hour starts, sums), or null when there is no clear step. */
export function estimateOnset(points: readonly HourlyPoint[], o: OnsetOptions = {}): Onset | null {
  const pts = points.filter((p) => p.n > 0).sort((a, b) => a.t - b.t);
  const fit = bestSplit(pts);
  if (fit === null) return null;
  const m = pts.length;
  // Residuals scaled to unit weight: e_h = √N_h (r_h - m_seg), which share one variance under the model.
  const fitted = (i: number) => (i < fit.k ? fit.before : fit.after);
  const resid = pts.map((p, i) => Math.sqrt(p.n) * (p.x / p.n - fitted(i)));
  const sigma2 = fit.sse / Math.max(1, m - 2);
  const n1 = pts.slice(0, fit.k).reduce((s, p) => s + p.n, 0);
  const n2 = pts.slice(fit.k).reduce((s, p) => s + p.n, 0);
  const se = Math.sqrt(sigma2 * (1 / n1 + 1 / n2));
  const z = se > 0 ? Math.abs(fit.after - fit.before) / se : Infinity;
  if (!(z >= (o.minZ ?? 5))) return null;

  const rounds = o.bootstrap ?? 200;
  const rand = generator(o.seed ?? 0x5eed);
  const segA = resid.slice(0, fit.k);
  const segB = resid.slice(fit.k);
  const ks: number[] = [];
  for (let b = 0; b < rounds; b++) {
    const sample = pts.map((p, i) => {
      const pool = i < fit.k ? segA : segB;
      const e = pool[Math.floor(rand() * pool.length)]!;
      return { x: p.n * (fitted(i) + e / Math.sqrt(p.n)), n: p.n };
    });
    const f = bestSplit(sample);
    if (f) ks.push(f.k);
  }
  ks.sort((a, b) => a - b);
  const t = (k: number) => pts[Math.min(m - 1, Math.max(0, k))]!.t;
  const low = ks.length > 0 ? t(quantile(ks, 0.05)) : t(fit.k);
  const high = ks.length > 0 ? t(quantile(ks, 0.95)) : t(fit.k);
  const at = t(fit.k);
  const half = Math.max(HOUR, Math.ceil(Math.max(at - low, high - at) / HOUR) * HOUR);
  return { at, uncertaintyMs: half, low, high, before: fit.before, after: fit.after, hours: m };
}
