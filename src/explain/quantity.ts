/**
 * The quantity an explanation follows for a series (pure): the signal's value as a ratio X/N of
 * per-run sums. For a scalar signal it is the signal itself; for the distribution signals (the tool
 * mix, the output schema) it is the part that moved most: that tool's calls per run, or the share of
 * runs with that fingerprint. The onset, the attribution and the example runs all follow it.
 */
import type { Rule } from '../rules/types.js';
import { MIX_KEY } from '../store/contract.js';
import type { Quantity, WhatMoved } from './types.js';

/** The part that moved most in the direction of the change (a new or grown one first for fingerprints). */
function topPart(moved: WhatMoved): string | null {
  const parts = moved.kind === 'fingerprints' ? moved.parts.filter((p) => p.contribution > 0) : moved.parts;
  return parts[0]?.name ?? null;
}

/** A run's cost in the rule's `cost:` option, as per-run SQL. */
const costColumns = (cost: 'token' | 'tool' | 'total') =>
  cost === 'token' ? 'token_cost_usd' : cost === 'tool' ? 'tool_cost_usd' : '(token_cost_usd + tool_cost_usd)';

/**
 * `r0` (the quantity's baseline value) is bound later, when it is known: `carries` compares a run's
 * own ratio with it, in the direction the quantity moved (`rising`).
 */
export function quantityFor(rule: Rule, key: string, moved: WhatMoved): Omit<Quantity, 'carries'> & { readonly carries: (rising: boolean) => string } | null {
  const carries = (rising: boolean) => `x ${rising ? '>' : '<'} {r0:Float64} * toFloat64(${n})`;
  let n = '1';
  switch (rule.signal) {
    case 'tool_calls_per_run': {
      const tool = key === MIX_KEY || key === '' ? topPart(moved) : key;
      if (tool === null) return null;
      return { name: `${tool} calls per run`, x: 'tool_calls[{q_tool:String}]', n, params: { q_tool: tool }, carries };
    }
    case 'policy_activation_rate': {
      const act = rule.options.escalations === false ? 'policy_denials' : '(policy_denials + policy_escalations)';
      if (rule.options.per === 'run') return { name: 'share of runs with a policy activation', x: `${act} > 0`, n, params: {}, carries };
      n = '(policy_allows + policy_denials + policy_escalations)';
      return { name: 'policy activations per decision', x: act, n, params: {}, carries };
    }
    case 'cost_per_success': {
      const cost = rule.options.cost ?? 'total';
      const x = costColumns(cost);
      n = "(outcome = 'success')";
      // When the success rate carries most of the change, the runs that show it are the failed ones.
      const successRateLed = moved.parts[0]?.name === 'success rate';
      return {
        name: `${cost === 'total' ? '' : `${cost} `}cost per success (USD)`,
        x,
        n,
        params: {},
        carries: (rising) => (successRateLed && rising ? "outcome != 'success'" : carries(rising)),
      };
    }
    case 'output_schema_shift': {
      // A share series (`measure: share`) is about its own fingerprint; a distance, about the one that moved most.
      const fp = key !== '' ? key : topPart(moved);
      if (fp === null) return null;
      return { name: `share of runs with fingerprint ${fp}`, x: 'output_schema_fingerprint = {q_fp:String}', n, params: { q_fp: fp }, carries };
    }
    // A quantile moves with the durations of the runs that make the tail: their mean follows it.
    case 'duration':
      return { name: 'duration per run (ms)', x: 'duration_ms', n, params: {}, carries };
    case 'error_rate': {
      const listed = rule.options.outcome;
      return listed === undefined
        ? { name: 'share of runs with an error outcome', x: "outcome != 'success'", n, params: {}, carries }
        : { name: `share of runs with outcome ${listed.join(' or ')}`, x: 'has({q_outcomes:Array(String)}, toString(outcome))', n, params: { q_outcomes: [...listed] }, carries };
    }
    case 'tool_error_rate':
      if (key === '') return null;
      n = 'tool_calls[{q_tool:String}]';
      return { name: `${key} failed calls per call`, x: 'tool_errors[{q_tool:String}]', n, params: { q_tool: key }, carries };
    case 'tokens_per_run': {
      const t = rule.options.tokens ?? 'total';
      const x = t === 'input' ? 'input_tokens' : t === 'output' ? 'output_tokens' : '(input_tokens + output_tokens)';
      return { name: `${t} tokens per run`, x, n, params: {}, carries };
    }
    case 'score':
    case 'metric': {
      const map = rule.signal === 'score' ? 'scores' : 'metrics';
      // The name is the rule's option (the series' key repeats it, where a caller passes one).
      const name = (rule.signal === 'score' ? rule.options.score : rule.options.metric) ?? key;
      if (name === '') return null;
      n = `mapContains(${map}, {q_name:String})`;
      return { name: `mean ${rule.signal} ${name}`, x: `${map}[{q_name:String}]`, n, params: { q_name: name }, carries };
    }
    // Spend in a window is runs x spend per run: the per-run spend is what a dimension value moves.
    case 'cost': {
      const cost = rule.options.cost ?? 'total';
      const x = costColumns(cost);
      return { name: `${cost === 'total' ? '' : `${cost} `}cost per run (USD)`, x, n, params: {}, carries };
    }
    // Traffic has no per-run quantity to attribute.
    case 'runs':
      return null;
  }
}
