/**
 * output_schema_shift with `measure: share` (pure, on sums built by hand): one series per fingerprint
 * holding at least MIN_SHARE of the runs in either window, labelled `fingerprint`, whose current and
 * baseline are that fingerprint's shares of runs, its deviation the relative change of the share and
 * its test the two-proportion z-test over runs.
 */
import { describe, expect, it } from 'vitest';
import { verdicts } from '../../src/engine/verdict.js';
import { SIGNAL_IMPLS, type Measurement } from '../../src/signals/index.js';
import { MIN_SHARE, OTHER } from '../../src/signals/schema.js';
import type { SignalSums, SumsRow } from '../../src/signals/sums.js';
import { windowsFor } from '../../src/signals/windows.js';
import { AT, DAY, rule } from '../helpers/runs.js';

const SCHEMA = SIGNAL_IMPLS.output_schema_shift;
const shareRule = (over: Parameters<typeof rule>[1] = {}) => rule('output_schema_shift', { groupBy: ['workflow_id'], threshold: 0.3, options: { measure: 'share' }, ...over });

/** Per window (0 current, 1.. baseline): runs and fingerprint counts (what the keyed query lists). */
type Win = { runs: number; fps: Record<string, number> };

function sums(groups: Record<string, Win[]>): SignalSums {
  const totals: SumsRow[] = [];
  const keyed: SumsRow[] = [];
  for (const [wf, wins] of Object.entries(groups)) {
    wins.forEach((win, w) => {
      totals.push({ w, workflow_id: wf, runs: win.runs });
      for (const [key, value] of Object.entries(win.fps)) keyed.push({ w, workflow_id: wf, key_kind: 'fingerprint', key, value, value_sq: 0, value_x_total: 0 });
    });
  }
  return { totals, keyed };
}

const WINDOWS = windowsFor(7 * DAY, { kind: 'previous', lengthMs: 7 * DAY, offsetMs: 0 }, AT);
const measure = (s: SignalSums, over: Parameters<typeof rule>[1] = {}) => SCHEMA.measure(shareRule(over), WINDOWS, s);
const byFp = (ms: Measurement[]) => Object.fromEntries(ms.map((m) => [m.labels.fingerprint!, m]));

/**
 * Baseline 1000 runs: a 300, b 650, c 40 (4%), d 10 (1%).
 * Current 1000 runs:  a 450, b 510, c 30 (3%), e 10 (1%).
 */
const DATA = sums({
  wf: [
    { runs: 1000, fps: { a: 450, b: 510, c: 30, e: 10 } },
    { runs: 1000, fps: { a: 300, b: 650, c: 40, d: 10 } },
  ],
});

describe('output_schema_shift, measure: share', () => {
  it('MIN_SHARE is 5%', () => {
    expect(MIN_SHARE).toBe(0.05);
  });

  it('one series per fingerprint with >= 5% of runs in either window; the tail gets none', () => {
    const ms = measure(DATA);
    expect(ms.map((m) => m.labels)).toEqual([
      { workflow_id: 'wf', fingerprint: 'a' },
      { workflow_id: 'wf', fingerprint: 'b' },
    ]);
    expect(ms.map((m) => m.key)).toEqual(['a', 'b']);
  });

  it('30% -> 45%: current and baseline are shares, the deviation is relative (+0.5), the test two-proportion z', () => {
    const a = byFp(measure(DATA)).a!;
    expect(a.current).toBeCloseTo(0.45, 12);
    expect(a.baseline).toBeCloseTo(0.3, 12);
    expect(a.deviation).toBeCloseTo(0.5, 12);
    expect(a.isNew).toBe(false);
    expect(a.currentRuns).toBe(1000);
    expect(a.baselineRuns).toBe(1000);
    // Pooled p = 750 / 2000 = 0.375; se = sqrt(0.375 x 0.625 x (1/1000 + 1/1000)) = 0.0216506;
    // z = 0.15 / 0.0216506 = 6.92820.
    expect(a.test?.name).toBe('two_proportion_z');
    expect(a.test?.statistic).toBeCloseTo(6.9282, 4);
    expect(a.test?.pValue).toBeLessThan(1e-10);
    expect(a.extra).toEqual({ measure: 'share' });
    expect(a.contributors).toEqual([{ name: 'a', current: a.current, baseline: a.baseline }]);
  });

  it('a share can fall: 65% -> 51% is -21.5%, z negative', () => {
    const b = byFp(measure(DATA)).b!;
    expect(b.current).toBeCloseTo(0.51, 12);
    expect(b.baseline).toBeCloseTo(0.65, 12);
    expect(b.deviation).toBeCloseTo(0.51 / 0.65 - 1, 12);
    expect(b.test!.statistic).toBeLessThan(0);
  });

  it('5% of the baseline is enough; a shape only the current window has gets none (a new shape is the distance\'s); one gone has share 0 (-100%)', () => {
    const ms = byFp(
      measure(
        sums({
          wf: [
            { runs: 200, fps: { a: 190, x: 10 } },
            { runs: 400, fps: { a: 360, gone: 40 } },
          ],
        }),
      ),
    );
    expect(Object.keys(ms).sort()).toEqual(['a', 'gone']);
    expect(ms.gone!.current).toBe(0);
    expect(ms.gone!.baseline).toBeCloseTo(0.1, 12);
    expect(ms.gone!.deviation).toBeCloseTo(-1, 12);
  });

  it('exactly 5% of the baseline makes a series; just under 5% makes none', () => {
    const at5 = measure(sums({ wf: [{ runs: 1000, fps: { a: 1000 } }, { runs: 1000, fps: { a: 950, t: 50 } }] }));
    expect(at5.map((m) => m.key).sort()).toEqual(['a', 't']);
  });

  it('just under 5% in both windows: no series', () => {
    const ms = measure(sums({ wf: [{ runs: 1000, fps: { a: 951, t: 49 } }, { runs: 1000, fps: { a: 951, t: 49 } }] }));
    expect(ms.map((m) => m.key)).toEqual(['a']);
  });

  it('the runs the keyed query did not list (beyond the top fingerprints) never make a series of their own', () => {
    // 600 of 1000 runs unlisted: pooled as __other__, which is not a fingerprint.
    const ms = measure(sums({ wf: [{ runs: 1000, fps: { a: 400 } }, { runs: 1000, fps: { a: 300 } }] }));
    expect(ms.map((m) => m.key)).toEqual(['a']);
    expect(ms.map((m) => m.key)).not.toContain(OTHER);
    // The share is still of all runs.
    expect(ms[0]!.current).toBeCloseTo(0.4, 12);
  });

  it('groups are measured apart', () => {
    const ms = measure(
      sums({
        v: [{ runs: 100, fps: { a: 100 } }, { runs: 100, fps: { a: 50, b: 50 } }],
        wf: [{ runs: 10, fps: { z: 10 } }, { runs: 10, fps: { z: 10 } }],
      }),
    );
    expect(ms.map((m) => `${m.labels.workflow_id}/${m.labels.fingerprint}`).sort()).toEqual(['v/a', 'v/b', 'wf/z']);
  });

  it('a seasonal baseline: the share\'s baseline is the median of the weeks\' shares', () => {
    const seasonal = windowsFor(DAY, { kind: 'seasonal', weeks: 3 }, AT);
    const s = sums({
      wf: [
        { runs: 100, fps: { a: 50, b: 50 } },
        { runs: 100, fps: { a: 20, b: 80 } },
        { runs: 200, fps: { a: 60, b: 140 } },
        { runs: 100, fps: { a: 90, b: 10 } },
      ],
    });
    const a = byFp(SCHEMA.measure(shareRule({ windowMs: DAY, baseline: { kind: 'seasonal', weeks: 3 } }), seasonal, s)).a!;
    // Weeks' shares 0.2, 0.3, 0.9: median 0.3.
    expect(a.baseline).toBeCloseTo(0.3, 12);
    expect(a.deviation).toBeCloseTo(0.5 / 0.3 - 1, 12);
  });

  it('js_distance and unseen_share are unchanged: one series per group, key \'\'', () => {
    for (const measureName of ['js_distance', 'unseen_share'] as const) {
      const ms = SCHEMA.measure(shareRule({ options: { measure: measureName } }), WINDOWS, DATA);
      expect(ms).toHaveLength(1);
      expect(ms[0]!.key).toBe('');
      expect(ms[0]!.labels).toEqual({ workflow_id: 'wf' });
    }
  });
});

describe('a share is a scalar, a distance an effect size', () => {
  it('effectSize is true for the per-group key \'\' only', () => {
    expect(SCHEMA.effectSize('', { options: { measure: 'js_distance' } })).toBe(true);
    expect(SCHEMA.effectSize('fp-1', { options: { measure: 'share' } })).toBe(false);
    expect(SCHEMA.effectSize('', { options: { measure: 'share' } })).toBe(false);
  });

  it('a share series is judged in the rule\'s direction, like a rate', () => {
    const ms = measure(DATA);
    const active = (direction: 'up' | 'down' | 'both', threshold: number) =>
      verdicts(shareRule({ direction, threshold }), SCHEMA, ms).map((s) => `${s.labels.fingerprint}:${s.outcome.kind === 'ok' && s.outcome.active}`);
    // a +50%, b -21.5%
    expect(active('up', 0.3)).toEqual(['a:true', 'b:false']);
    expect(active('down', 0.2)).toEqual(['a:false', 'b:true']);
    expect(active('both', 0.2)).toEqual(['a:true', 'b:true']);
    expect(active('both', 0.6)).toEqual(['a:false', 'b:false']);
  });

  it('a firing share series keeps a frozen baseline (a distance never does)', () => {
    const [a] = measure(DATA);
    const frozen = new Map([['test_output_schema_shift{fingerprint="a",workflow_id="wf"}', 0.2]]);
    const [s] = verdicts(shareRule(), SCHEMA, [a!], frozen);
    expect(s!.baseline).toBe(0.2);
    expect(s!.deviation).toBeCloseTo(1.25, 12);
    expect(s!.extra).toMatchObject({ frozen_baseline: 0.2, measure: 'share' });
  });
});
