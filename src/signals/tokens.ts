/**
 * tokens_per_run: input, output or total tokens per run (`tokens:`, default total), run-weighted,
 * tested with Welch's t-test on per-run token counts (for the total, Σ(i+o)² = Σi² + 2Σi·o + Σo²).
 * Contributors: input and output tokens per run, so a message says which grew.
 */
import type { Rule } from '../rules/types.js';
import { welchTTest } from '../stats/index.js';
import type { Measurement } from './result.js';
import { perRun, scalarSeries } from './scalar.js';
import { GroupTable, num } from './sql.js';
import type { SignalSums } from './sums.js';
import type { WindowBounds } from './types.js';

interface TokenWindow {
  n: number;
  input: number;
  output: number;
  inputSq: number;
  outputSq: number;
  inputXOutput: number;
}

export function tokensMeasure(rule: Rule, windows: readonly WindowBounds[], sums: SignalSums): Measurement[] {
  const groups = new GroupTable(rule, (labels) => ({
    labels,
    win: windows.map((): TokenWindow => ({ n: 0, input: 0, output: 0, inputSq: 0, outputSq: 0, inputXOutput: 0 })),
  }));
  for (const r of sums.totals) {
    const w = groups.of(r).win[num(r.w)]!;
    Object.assign(w, {
      n: num(r.runs),
      input: num(r.input_tokens_sum),
      output: num(r.output_tokens_sum),
      inputSq: num(r.input_tokens_sq),
      outputSq: num(r.output_tokens_sq),
      inputXOutput: num(r.input_x_output_tokens),
    });
  }
  const which = rule.options.tokens ?? 'total';
  const moments = (w: TokenWindow) =>
    which === 'input'
      ? { n: w.n, sum: w.input, sumSq: w.inputSq }
      : which === 'output'
        ? { n: w.n, sum: w.output, sumSq: w.outputSq }
        : { n: w.n, sum: w.input + w.output, sumSq: w.inputSq + 2 * w.inputXOutput + w.outputSq };
  const out: Measurement[] = [];
  for (const g of groups.values()) {
    out.push(
      scalarSeries({
        labels: g.labels,
        key: '',
        win: g.win,
        runs: (w) => w.n,
        value: (w) => perRun(moments(w).sum, w.n),
        testName: 'welch_t',
        test: (c, b) => welchTTest(moments(c), moments(b)),
        contributors: (_pick, both) => [
          { name: 'input_tokens_per_run', ...both((w) => perRun(w.input, w.n)) },
          { name: 'output_tokens_per_run', ...both((w) => perRun(w.output, w.n)) },
        ],
      }),
    );
  }
  return out;
}
