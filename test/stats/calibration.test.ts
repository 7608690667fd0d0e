/**
 * Calibration of every signal's significance test: on A/A data (both windows drawn from the same
 * process) a test at level alpha must fire on about alpha of the replications, or a rule with
 * `significance` pages on noise (too many) or misses real drifts (far too few). Here each test's
 * false-positive rate must lie within 1.5x of nominal: [alpha/1.5, 1.5 alpha].
 *
 * The data (test/helpers/aa.ts) have the structure that breaks naive tests on agent runs: tool calls
 * clustered in runs, several correlated policy decisions per run, lognormal cost (sigma 1.5), a long
 * tail of output fingerprints. They are reduced to the exact rows the signals' SQL returns and go
 * through the signals' own measure code, so what is measured is what a rule sees. Deterministic
 * (seeded), and a few seconds.
 *
 * Alpha 0.01 is asserted where there are enough replications for it (4000 and more: 40 expected
 * rejections; at 2000 the 1.5x band is only -1.5 to +2.3 binomial standard deviations wide) and
 * printed everywhere. Power: a +50% change in the current window at 2000 runs must be found at 0.05
 * with probability >= 0.9; the rate at 0.001 (the default rules' level) is printed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MIX_KEY } from '../../src/store/contract.js';
import { chiSquareTest, twoProportionZTest } from '../../src/stats/index.js';
import {
  CHANGED_TOOL,
  Sampler,
  TOOL_NAMES,
  costRows,
  measureCost,
  measurePolicy,
  measureSchema,
  measureToolCalls,
  policyRows,
  schemaRows,
  toolCallsRows,
  type Rows,
} from '../helpers/aa.js';

const LOW = 1 / 1.5;
const HIGH = 1.5;

interface Rate {
  readonly label: string;
  readonly runs: number;
  readonly tests: number;
  readonly at05: number;
  readonly at01: number;
  readonly at001: number;
}

const table: Rate[] = [];
const power: Rate[] = [];

function rateOf(label: string, runs: number, ps: readonly (number | null)[]): Rate {
  const defined = ps.filter((p): p is number => p !== null);
  // Every replication here has data enough for every test: an undefined test would hide a bug.
  expect(defined.length, `${label}: undefined tests`).toBe(ps.length);
  const at = (alpha: number) => defined.filter((p) => p < alpha).length / defined.length;
  return { label, runs, tests: defined.length, at05: at(0.05), at01: at(0.01), at001: at(0.001) };
}

/** Asserts the 1.5x band at 0.05, and at 0.01 when there are at least 4000 tests. */
function expectCalibrated(r: Rate): void {
  table.push(r);
  expect(r.at05, `${r.label} at ${r.runs} runs, alpha 0.05`).toBeGreaterThanOrEqual(0.05 * LOW);
  expect(r.at05, `${r.label} at ${r.runs} runs, alpha 0.05`).toBeLessThanOrEqual(0.05 * HIGH);
  if (r.tests >= 4000) {
    expect(r.at01, `${r.label} at ${r.runs} runs, alpha 0.01`).toBeGreaterThanOrEqual(0.01 * LOW);
    expect(r.at01, `${r.label} at ${r.runs} runs, alpha 0.01`).toBeLessThanOrEqual(0.01 * HIGH);
  }
}

const fmt = (x: number) => x.toFixed(4);
afterAll(() => {
  const lines = [
    'A/A false-positive rates (nominal 0.05 / 0.01 / 0.001)',
    ...table.map((r) => `  ${r.label.padEnd(58)} ${String(r.runs).padStart(5)} runs ${String(r.tests).padStart(6)} tests  ${fmt(r.at05)}  ${fmt(r.at01)}  ${fmt(r.at001)}`),
    'Power, +50% in the current window (at 0.05 / 0.01 / 0.001)',
    ...power.map((r) => `  ${r.label.padEnd(58)} ${String(r.runs).padStart(5)} runs ${String(r.tests).padStart(6)} tests  ${fmt(r.at05)}  ${fmt(r.at01)}  ${fmt(r.at001)}`),
  ];
  console.log(lines.join('\n'));
});

/** A/A replications at 200 runs per window get twice as many as at 2000 (they are ten times cheaper). */
const repsFor = (runs: number) => (runs <= 200 ? 4000 : 2000);
const POWER_REPS = 400;
const SIZES = [200, 2000] as const;

describe('A/A calibration: tool_calls_per_run', () => {
  for (const runs of SIZES) {
    it(`per-tool Welch t and the Rao-Scott tool-mix test at ${runs} runs per window`, () => {
      const s = new Sampler(`aa-tools-${runs}`);
      const perTool = new Map<string, (number | null)[]>(TOOL_NAMES.map((t) => [t, []]));
      const mix: (number | null)[] = [];
      const pearson: (number | null)[] = [];
      for (let i = 0; i < repsFor(runs); i++) {
        const rows = toolCallsRows(s, runs);
        for (const m of measureToolCalls(rows)) {
          if (m.key === MIX_KEY) {
            expect(m.test?.name).toBe('rao_scott_chi_square');
            mix.push(m.test?.pValue ?? null);
          } else perTool.get(m.key)!.push(m.test?.pValue ?? null);
        }
        pearson.push(chiSquareTest(callTable(rows))?.pValue ?? null);
      }
      for (const [tool, ps] of perTool) expectCalibrated(rateOf(`tool calls, Welch t: ${tool}`, runs, ps));
      table.push(rateOf('tool calls, Welch t: all six tools', runs, [...perTool.values()].flat()));
      expectCalibrated(rateOf('tool mix, Rao-Scott chi-square (runs)', runs, mix));
      // What it replaces: Pearson on call counts, as if calls were independent draws.
      const old = rateOf('  (was: tool mix, Pearson chi-square on calls)', runs, pearson);
      table.push(old);
      expect(old.at05).toBeGreaterThan(0.2);
    });
  }
});

/** The current and baseline call counts per tool, from the tool rows. */
function callTable(rows: Rows): { current: Record<string, number>; baseline: Record<string, number> } {
  const current: Record<string, number> = {};
  const baseline: Record<string, number> = {};
  for (const r of rows[1]!) if (r.key_kind === 'tool') (r.w === 0 ? current : baseline)[String(r.key)] = Number(r.value);
  return { current, baseline };
}

describe('A/A calibration: policy_activation_rate', () => {
  for (const runs of SIZES) {
    it(`per decision (ratio test over runs) and per run (two proportions over runs) at ${runs} runs per window`, () => {
      const s = new Sampler(`aa-policy-${runs}`);
      const perDecision: (number | null)[] = [];
      const perRun: (number | null)[] = [];
      const overDecisions: (number | null)[] = [];
      for (let i = 0; i < repsFor(runs); i++) {
        const rows = policyRows(s, runs);
        const d = measurePolicy(rows);
        expect(d.test?.name).toBe('ratio_z_delta');
        perDecision.push(d.test?.pValue ?? null);
        perRun.push(measurePolicy(rows, { per: 'run' }).test?.pValue ?? null);
        const [cur, base] = rows[0]!;
        overDecisions.push(
          twoProportionZTest(overDecisionCounts(cur!), overDecisionCounts(base!))?.pValue ?? null,
        );
      }
      expectCalibrated(rateOf('policy per decision, ratio z (runs)', runs, perDecision));
      expectCalibrated(rateOf('policy per run, two-proportion z (runs)', runs, perRun));
      const old = rateOf('  (was: policy per decision, two-proportion z on decisions)', runs, overDecisions);
      table.push(old);
      expect(old.at05).toBeGreaterThan(0.075);
    });
  }
});

/** Activations (denials) over decisions of one window's totals row, as if decisions were independent. */
function overDecisionCounts(r: Record<string, unknown>): { successes: number; trials: number } {
  const denials = Number(r.denials);
  return { successes: denials, trials: Number(r.allows) + denials + Number(r.escalations) };
}

describe('A/A calibration: cost_per_success', () => {
  for (const runs of SIZES) {
    it(`ratio z (delta method) with lognormal cost, sigma 1.5, at ${runs} runs per window`, () => {
      const s = new Sampler(`aa-cost-${runs}`);
      const ps: (number | null)[] = [];
      // Cheap to generate, and heavy tails make the rate noisier: more replications.
      for (let i = 0; i < 2 * repsFor(runs); i++) ps.push(measureCost(costRows(s, runs)).test?.pValue ?? null);
      const r = rateOf('cost per success, ratio z (lognormal sigma 1.5)', runs, ps);
      table.push(r);
      // Never anti-conservative. At 0.05 within the band; at 0.01 conservative at 200 runs: with a
      // heavy right tail the biggest runs inflate the difference and its standard error together,
      // which caps |z|. That costs power (see the power table), not false alerts; a t reference
      // would only make it more conservative.
      expect(r.at05).toBeGreaterThanOrEqual(0.05 * LOW);
      expect(r.at05).toBeLessThanOrEqual(0.05 * HIGH);
      expect(r.at01).toBeLessThanOrEqual(0.01 * HIGH);
      expect(r.at01).toBeGreaterThanOrEqual(0.01 / 4);
    });
  }
});

describe('A/A calibration: output_schema_shift', () => {
  for (const runs of SIZES) {
    it(`chi-square with sparse fingerprints pooled, 24 fingerprints (Zipf), at ${runs} runs per window`, () => {
      const s = new Sampler(`aa-schema-${runs}`);
      const pooled: (number | null)[] = [];
      const unpooled: (number | null)[] = [];
      // Cheap to generate: twice the replications, enough to check 0.01 at 2000 runs too.
      for (let i = 0; i < 2 * repsFor(runs); i++) {
        const rows = schemaRows(s, runs);
        pooled.push(measureSchema(rows).test?.pValue ?? null);
        const current: Record<string, number> = {};
        const baseline: Record<string, number> = {};
        for (const r of rows[1]!) (r.w === 0 ? current : baseline)[String(r.key)] = Number(r.value);
        unpooled.push(chiSquareTest({ current, baseline })?.pValue ?? null);
      }
      expectCalibrated(rateOf('schema, chi-square, expected < 5 pooled', runs, pooled));
      table.push(rateOf('  (was: schema, chi-square on every fingerprint)', runs, unpooled));
    });
  }
});

describe('power: a +50% change at 2000 runs per window is found', () => {
  const change = { factor: 1.5 };
  for (const runs of SIZES) {
    it(`at ${runs} runs per window`, () => {
      const s = new Sampler(`power-${runs}`);
      const tool: (number | null)[] = [];
      const mix: (number | null)[] = [];
      const policy: (number | null)[] = [];
      const policyRun: (number | null)[] = [];
      const cost: (number | null)[] = [];
      const schema: (number | null)[] = [];
      for (let i = 0; i < POWER_REPS; i++) {
        const ms = measureToolCalls(toolCallsRows(s, runs, change));
        tool.push(ms.find((m) => m.key === CHANGED_TOOL)!.test?.pValue ?? null);
        mix.push(ms.find((m) => m.key === MIX_KEY)!.test?.pValue ?? null);
        const p = policyRows(s, runs, change);
        policy.push(measurePolicy(p).test?.pValue ?? null);
        policyRun.push(measurePolicy(p, { per: 'run' }).test?.pValue ?? null);
        cost.push(measureCost(costRows(s, runs, change)).test?.pValue ?? null);
        schema.push(measureSchema(schemaRows(s, runs, change)).test?.pValue ?? null);
      }
      const rates = [
        rateOf(`tool calls: ${CHANGED_TOOL} 2.0 -> 3.0 per run, Welch t`, runs, tool),
        rateOf(`tool mix: ${CHANGED_TOOL} calls x1.5, Rao-Scott`, runs, mix),
        rateOf('policy per decision: 0.08 -> 0.12, ratio z', runs, policy),
        rateOf('policy per run: propensity 0.08 -> 0.12, two-proportion z', runs, policyRun),
        rateOf('cost per success x1.5, ratio z', runs, cost),
        rateOf('schema: top fingerprint 30% -> 45% of runs, chi-square', runs, schema),
      ];
      power.push(...rates);
      if (runs >= 2000) for (const r of rates) expect(r.at05, r.label).toBeGreaterThanOrEqual(0.9);
    });
  }
});
