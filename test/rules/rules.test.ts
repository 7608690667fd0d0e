import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuleFiles, parseRules } from '../../src/rules/load.js';
import type { Rule, RuleSet } from '../../src/rules/types.js';
import { formatProblem } from '../../src/yaml/problem.js';

const FIX = 'test/fixtures/rules';

/** One group around one rule: `body` holds the rule's keys, one per line. */
function oneRule(body: string): string {
  return `groups:\n  - name: g\n    interval: 5m\n    rules:\n      - ${body.trim().split('\n').join('\n        ')}\n`;
}

function parse(text: string, file = 'r.yaml'): { ruleSet: RuleSet | null; lines: string[] } {
  const r = parseRules([{ file, text }]);
  return { ruleSet: r.ruleSet, lines: r.problems.map(formatProblem) };
}

function rule(body: string): Rule {
  const { ruleSet, lines } = parse(oneRule(body));
  expect(lines).toEqual([]);
  return ruleSet!.groups[0]!.rules[0]!;
}

const BASE = 'alert: A\nsignal: tool_calls_per_run\nthreshold: 20%';

describe('the example from the issue', () => {
  it('is accepted exactly as written, with its values', async () => {
    const { ruleSet, problems, files } = await loadRuleFiles([`${FIX}/example.yaml`]);
    expect(problems).toEqual([]);
    expect(files).toEqual([`${FIX}/example.yaml`]);
    const g = ruleSet!.groups[0]!;
    expect(g).toMatchObject({
      name: 'agent-drift',
      schedule: { kind: 'interval', everyMs: 300_000 },
      timeoutMs: 120_000,
      file: `${FIX}/example.yaml`,
      pos: { file: `${FIX}/example.yaml`, line: 2, col: 5 },
    });
    expect(g.rules).toEqual([
      {
        alert: 'ToolCallsPerRunUp',
        signal: 'tool_calls_per_run',
        where: { environment: 'prod' },
        groupBy: ['workflow_id'],
        windowMs: 604_800_000,
        baseline: { kind: 'previous', lengthMs: 604_800_000, offsetMs: 0 },
        threshold: 0.2,
        direction: 'up',
        minRuns: 200,
        significance: 0.01,
        forMs: 1_800_000,
        options: {},
        labels: { severity: 'warning', team: 'agents' },
        annotations: {
          summary: '{{ $labels.workflow_id }}: {{ $labels.tool }} calls per run {{ $value | percent }} vs baseline',
        },
        pos: { file: `${FIX}/example.yaml`, line: 6, col: 9 },
      },
    ]);
  });

  it('is deep-frozen', async () => {
    const { ruleSet } = await loadRuleFiles([`${FIX}/example.yaml`]);
    const r = ruleSet!.groups[0]!.rules[0]!;
    expect(Object.isFrozen(ruleSet)).toBe(true);
    expect(Object.isFrozen(ruleSet!.groups)).toBe(true);
    expect(Object.isFrozen(r.where)).toBe(true);
    expect(Object.isFrozen(r.groupBy)).toBe(true);
    expect(Object.isFrozen(r.labels)).toBe(true);
    expect(() => {
      (r as { threshold: number }).threshold = 1;
    }).toThrow(TypeError);
  });
});

describe('defaults', () => {
  it('fills every default of a minimal rule', () => {
    expect(rule(BASE)).toMatchObject({
      where: {},
      groupBy: [],
      windowMs: 7 * 86_400_000,
      baseline: { kind: 'previous', lengthMs: 7 * 86_400_000, offsetMs: 0 },
      direction: 'up',
      minRuns: 100,
      significance: null,
      forMs: 0,
      options: {},
      labels: {},
      annotations: {},
    });
  });

  it('takes the baseline length from the window', () => {
    expect(rule(`${BASE}\nwindow: 3d`).baseline).toEqual({ kind: 'previous', lengthMs: 3 * 86_400_000, offsetMs: 0 });
  });

  it.each([
    ['policy_activation_rate', '', { escalations: true, per: 'decision' }],
    ['policy_activation_rate', 'escalations: false\nper: run', { escalations: false, per: 'run' }],
    ['cost_per_success', '', { cost: 'total' }],
    ['cost_per_success', 'cost: token', { cost: 'token' }],
    ['output_schema_shift', '', { measure: 'js_distance' }],
    ['output_schema_shift', 'measure: unseen_share', { measure: 'unseen_share' }],
    ['tool_calls_per_run', '', {}],
  ])('signal %s with %j has options %j', (signal, extra, options) => {
    expect(rule(`alert: A\nsignal: ${signal}\nthreshold: 20%\n${extra}`).options).toEqual(options);
  });

  it.each([
    ['interval: 5m', { kind: 'interval', everyMs: 300_000 }, 300_000],
    ['interval: 1m', { kind: 'interval', everyMs: 60_000 }, 60_000],
    ['interval: 1h', { kind: 'interval', everyMs: 3_600_000 }, 300_000],
    ['interval: 1h\n    timeout: 10m', { kind: 'interval', everyMs: 3_600_000 }, 600_000],
    ['cron: "*/5 * * * *"', { kind: 'cron', expression: '*/5 * * * *' }, 300_000],
    ['cron: "0 * * * *"\n    timeout: 30s', { kind: 'cron', expression: '0 * * * *' }, 30_000],
  ])('group %j: schedule and timeout', (sched, schedule, timeoutMs) => {
    const { ruleSet, lines } = parse(`groups:\n  - name: g\n    ${sched}\n    rules: []\n`);
    expect(lines).toEqual([]);
    expect(ruleSet!.groups[0]).toMatchObject({ schedule, timeoutMs, rules: [] });
  });
});

describe('accepted rule values', () => {
  it.each<[string, Partial<Rule>]>([
    ['where: { workflow_id: "invoice_*", environment: [prod, staging] }', { where: { workflow_id: 'invoice_*', environment: ['prod', 'staging'] } }],
    ['where: { tenant_id: "" }', { where: { tenant_id: '' } }],
    ['group_by: [workflow_id, model]', { groupBy: ['workflow_id', 'model'] }],
    ['baseline: { previous: 14d, offset: 1d }', { baseline: { kind: 'previous', lengthMs: 14 * 86_400_000, offsetMs: 86_400_000 } }],
    ['baseline: { seasonal_weeks: 3 }', { baseline: { kind: 'seasonal', weeks: 3 } }],
    ['threshold: 12.5%', { threshold: 0.125 }],
    ['threshold: 0.2', { threshold: 0.2 }],
    ['threshold: 150%', { threshold: 1.5 }],
    ['direction: both', { direction: 'both' }],
    ['direction: down', { direction: 'down' }],
    ['min_runs: 1', { minRuns: 1 }],
    ['significance: 0.05', { significance: 0.05 }],
    ['significance: null', { significance: null }],
    ['for: 0s', { forMs: 0 }],
    ['for: 1h30m', { forMs: 5_400_000 }],
    ['keep_firing_for: 2h', { keepFiringForMs: 7_200_000 }],
    ['window: 90d', { windowMs: 90 * 86_400_000 }],
    ['labels: { severity: page, team_2: "{{ $labels.tool }}" }', { labels: { severity: 'page', team_2: '{{ $labels.tool }}' } }],
  ])('%s', (line, expected) => {
    const body = line.startsWith('threshold') ? `alert: A\nsignal: tool_calls_per_run\n${line}` : `${BASE}\n${line}`;
    expect(rule(body)).toMatchObject(expected);
  });
});

describe('one problem per mistake', () => {
  // Rule keys start on line 5 (col 9); `- ` puts the first at col 9 as well.
  it.each([
    ['unknown key', `${BASE}\nthreshhold: 1`, '8:9: unknown key "threshhold" in rule (did you mean "threshold"?)'],
    [
      'unknown key, no near match',
      `${BASE}\nseverity: page`,
      '8:9: unknown key "severity" in rule (allowed: alert, signal, where, group_by, window, baseline, threshold, direction, min_runs, significance, for, keep_firing_for, confirm_window, resolve_threshold, labels, annotations, escalations, per, cost, measure, stat, outcome, tokens, score, metric)',
    ],
    ['missing alert', 'signal: cost_per_success\nthreshold: 20%', '5:9: rule is missing required key "alert"'],
    ['missing signal', 'alert: A\nthreshold: 20%', '5:9: rule is missing required key "signal"'],
    ['missing threshold', 'alert: A\nsignal: cost_per_success', '5:9: rule is missing required key "threshold"'],
    ['empty alert', 'alert:\nsignal: cost_per_success\nthreshold: 20%', '5:9: alert: must not be empty'],
    ['alert not a string', 'alert: 12\nsignal: cost_per_success\nthreshold: 20%', '5:16: alert: expected a string, got a number (quote it)'],
    ['alert with a dash', 'alert: cost-up\nsignal: cost_per_success\nthreshold: 20%', '5:16: alert: invalid alert name "cost-up": use letters, digits and _, not starting with a digit'],
    ['bad window', `${BASE}\nwindow: 7 days`, '8:17: window: invalid duration "7 days": use an integer with a unit (ms, s, m, h, d, w, y), largest first, e.g. 30s, 5m, 1h30m, 7d'],
    ['negative window', `${BASE}\nwindow: -1h`, '8:17: window: invalid duration "-1h": use an integer with a unit (ms, s, m, h, d, w, y), largest first, e.g. 30s, 5m, 1h30m, 7d'],
    ['unitless window', `${BASE}\nwindow: 7`, '8:17: window: expected a duration, got a number without a unit (use an integer with a unit (ms, s, m, h, d, w, y), largest first, e.g. 30s, 5m, 1h30m, 7d)'],
    ['window too long', `${BASE}\nwindow: 13w`, '8:17: window: must be at most 90d, got 13w'],
    ['window too short', `${BASE}\nwindow: 30s`, '8:17: window: must be at least 1m, got 30s'],
    ['bad keep_firing_for', `${BASE}\nkeep_firing_for: soon`, '8:26: keep_firing_for: invalid duration "soon": use an integer with a unit (ms, s, m, h, d, w, y), largest first, e.g. 30s, 5m, 1h30m, 7d'],
    ['bad for', `${BASE}\nfor: 0x`, '8:14: for: invalid duration "0x": use an integer with a unit (ms, s, m, h, d, w, y), largest first, e.g. 30s, 5m, 1h30m, 7d'],
    ['bad percentage', 'alert: A\nsignal: cost_per_success\nthreshold: 20 %', '7:20: threshold: invalid percentage "20 %": use e.g. 20%, 12.5% or a fraction like 0.2'],
    ['threshold zero', 'alert: A\nsignal: cost_per_success\nthreshold: 0%', '7:20: threshold: must be greater than 0, got 0%'],
    ['threshold negative', 'alert: A\nsignal: cost_per_success\nthreshold: -5%', '7:20: threshold: must be greater than 0, got -5%'],
    ['threshold as a list', 'alert: A\nsignal: cost_per_success\nthreshold: [1]', '7:20: threshold: expected a percentage, got a list (use e.g. 20%, 12.5% or a fraction like 0.2)'],
    ['plain threshold above 1', 'alert: A\nsignal: cost_per_success\nthreshold: 20', '7:20: threshold: a plain number is a fraction, so 20 would mean 2000%; write 20% (or 2000% if that is meant)'],
    ['effect size above 1', 'alert: A\nsignal: output_schema_shift\nthreshold: 120%', '7:20: threshold: for output_schema_shift the threshold is an effect size between 0 and 1 (e.g. 20%), got 120%'],
    ['unknown signal', 'alert: A\nsignal: latency\nthreshold: 20%', '6:17: signal: unknown signal "latency" (did you mean "duration"?)'],
    ['misspelt signal', 'alert: A\nsignal: cost_per_sucess\nthreshold: 20%', '6:17: signal: unknown signal "cost_per_sucess" (did you mean "cost_per_success"?)'],
    [
      'unknown where column',
      `${BASE}\nwhere: { region: eu }`,
      '8:18: where: unknown column "region" (allowed: workflow_id, agent_id, agent_version, tenant_id, environment, service_name, model, prompt_version, policy_version, outcome, or attributes.KEY)',
    ],
    [
      'where on a non-dimension column',
      `${BASE}\nwhere: { token_cost_usd: "1" }`,
      '8:18: where: unknown column "token_cost_usd" (allowed: workflow_id, agent_id, agent_version, tenant_id, environment, service_name, model, prompt_version, policy_version, outcome, or attributes.KEY)',
    ],
    ['where number value', `${BASE}\nwhere: { agent_version: 1.10 }`, '8:33: where.agent_version: expected a string or a list of strings, got a number (quote it)'],
    ['where empty list', `${BASE}\nwhere: { model: [] }`, '8:25: where.model: an empty list matches nothing; remove the filter or list values'],
    ['where not a mapping', `${BASE}\nwhere: prod`, '8:16: where: expected a mapping of column: value, got a string'],
    [
      'group_by injection',
      `${BASE}\ngroup_by: ["workflow_id); DROP TABLE x"]`,
      '8:20: group_by: unknown column "workflow_id); DROP TABLE x" (allowed: workflow_id, agent_id, agent_version, tenant_id, environment, service_name, model, prompt_version, policy_version, outcome, or attributes.KEY)',
    ],
    [
      'group_by backquote injection',
      `${BASE}\ngroup_by: ["model\`, sleep(3), \`"]`,
      '8:20: group_by: unknown column "model`, sleep(3), `" (allowed: workflow_id, agent_id, agent_version, tenant_id, environment, service_name, model, prompt_version, policy_version, outcome, or attributes.KEY)',
    ],
    ['group_by duplicate', `${BASE}\ngroup_by: [model, model]`, '8:27: group_by: duplicate column "model"'],
    ['group_by not a list', `${BASE}\ngroup_by: model`, '8:19: group_by: expected a list, got a string'],
    ['group_by entry not a string', `${BASE}\ngroup_by: [{ a: 1 }]`, '8:20: group_by[0]: expected a string, got a mapping'],
    ['bad direction', `${BASE}\ndirection: sideways`, '8:20: direction: must be one of up, down, both, got "sideways"'],
    ['schema shift down', 'alert: A\nsignal: output_schema_shift\nthreshold: 20%\ndirection: both', '8:20: direction: output_schema_shift can only drift up (its effect size is never negative); with measure: share a fingerprint\'s share can move either way'],
    ['min_runs zero', `${BASE}\nmin_runs: 0`, '8:19: min_runs: must be a positive integer, got 0'],
    ['min_runs fraction', `${BASE}\nmin_runs: 1.5`, '8:19: min_runs: must be a positive integer, got 1.5'],
    ['min_runs string', `${BASE}\nmin_runs: many`, '8:19: min_runs: must be a positive integer, got a string'],
    ['significance 0', `${BASE}\nsignificance: 0`, '8:23: significance: must be a number between 0 and 1 (exclusive), e.g. 0.01, got 0'],
    ['significance 1', `${BASE}\nsignificance: 1`, '8:23: significance: must be a number between 0 and 1 (exclusive), e.g. 0.01, got 1'],
    ['significance percent', `${BASE}\nsignificance: 5%`, '8:23: significance: must be a number between 0 and 1 (exclusive), e.g. 0.01, got a string'],
    ['seasonal_weeks 0', `${BASE}\nbaseline: { seasonal_weeks: 0 }`, '8:37: baseline.seasonal_weeks: must be an integer from 1 to 12, got 0'],
    ['seasonal_weeks 13', `${BASE}\nbaseline: { seasonal_weeks: 13 }`, '8:37: baseline.seasonal_weeks: must be an integer from 1 to 12, got 13'],
    ['seasonal_weeks 2.5', `${BASE}\nbaseline: { seasonal_weeks: 2.5 }`, '8:37: baseline.seasonal_weeks: must be an integer from 1 to 12, got 2.5'],
    ['seasonal with a long window', `${BASE}\nwindow: 14d\nbaseline: { seasonal_weeks: 2 }`, '9:37: baseline.seasonal_weeks: needs a window of at most 7d, the window is 14d'],
    ['baseline both kinds', `${BASE}\nbaseline: { previous: 7d, seasonal_weeks: 2 }`, '8:35: baseline: use either previous or seasonal_weeks, not both'],
    ['baseline empty', `${BASE}\nbaseline: {}`, '8:19: baseline: needs previous (e.g. { previous: 7d }) or seasonal_weeks (e.g. { seasonal_weeks: 3 })'],
    ['offset on seasonal', `${BASE}\nbaseline: { seasonal_weeks: 2, offset: 1d }`, '8:40: baseline.offset: applies only to a previous baseline, not to seasonal_weeks'],
    ['baseline unknown key', `${BASE}\nbaseline: { previous: 7d, weeks: 2 }`, '8:35: unknown key "weeks" in baseline (allowed: previous, offset, seasonal_weeks, robust)'],
    ['bad baseline duration', `${BASE}\nbaseline: { previous: a week }`, '8:31: baseline.previous: invalid duration "a week": use an integer with a unit (ms, s, m, h, d, w, y), largest first, e.g. 30s, 5m, 1h30m, 7d'],
    ['bad label name', `${BASE}\nlabels: { team-name: x }`, '8:19: labels: invalid label name "team-name": use letters, digits and _, not starting with a digit'],
    ['reserved label alertname', `${BASE}\nlabels: { alertname: x }`, '8:19: labels: "alertname" is reserved (set by agentdrift itself: alertname, rule, signal, key)'],
    ['reserved label key', `${BASE}\nlabels: { key: x }`, '8:19: labels: "key" is reserved (set by agentdrift itself: alertname, rule, signal, key)'],
    ['reserved label __', `${BASE}\nlabels: { __name__: x }`, '8:19: labels: names starting with __ are reserved, got "__name__"'],
    ['label shadows group_by', `${BASE}\ngroup_by: [model]\nlabels: { model: x }`, '9:19: labels: "model" is a group_by column; each alert gets it from its group'],
    ['label value not a string', `${BASE}\nlabels: { priority: 1 }`, '8:29: labels.priority: expected a string, got a number (quote it)'],
    ['bad label template', `${BASE}\nlabels: { team: "{{ $team }}" }`, '8:25: labels.team: bad template: unknown variable $team (known: $labels.<name>, $value, $current, $baseline, $runs, $baseline_runs, $p_value)'],
    ['bad annotation template', `${BASE}\nannotations: { summary: "{{ $value | percent " }`, '8:33: annotations.summary: bad template: unbalanced braces: "{{" at offset 0 is never closed'],
    ['bad annotation name', `${BASE}\nannotations: { 1st: x }`, '8:24: annotations: invalid annotation name "1st": use letters, digits and _, not starting with a digit'],
    ['option on the wrong signal', `${BASE}\nmeasure: js_distance`, "8:9: measure: option only for signal output_schema_shift, this rule's signal is tool_calls_per_run"],
    ['escalations on the wrong signal', `${BASE}\nescalations: true`, "8:9: escalations: option only for signal policy_activation_rate, this rule's signal is tool_calls_per_run"],
    ['bad option value', 'alert: A\nsignal: cost_per_success\nthreshold: 20%\ncost: tokens', '8:15: cost: must be one of token, tool, total, got "tokens"'],
    ['escalations not a boolean', 'alert: A\nsignal: policy_activation_rate\nthreshold: 20%\nescalations: yes', '8:22: escalations: expected true or false, got a string'],
  ])('%s', (_name, body, expected) => {
    const { ruleSet, lines } = parse(oneRule(body));
    expect(lines).toEqual([`r.yaml:${expected}`]);
    expect(ruleSet).toBeNull();
  });

  it.each([
    ['both interval and cron', 'interval: 5m\n    cron: "* * * * *"', '4:5: group: use either interval or cron, not both'],
    ['neither interval nor cron', 'timeout: 1m', '2:5: group is missing required key "interval" (or "cron")'],
    ['bad cron', 'cron: "every minute"', '3:11: cron: invalid cron expression "every minute" (expected 5 or 6 fields but got 2); e.g. "*/5 * * * *"'],
    ['zero interval', 'interval: 0s', '3:15: interval: must be at least 1s, got 0s'],
    ['timeout above interval', 'interval: 1m\n    timeout: 2m', '4:14: timeout: must not exceed the interval (1m), got 2m'],
    ['unknown group key', 'interval: 1m\n    evaluation_interval: 1m', '4:5: unknown key "evaluation_interval" in group (allowed: name, interval, cron, timeout, rules)'],
  ])('group: %s', (_name, lines, expected) => {
    const r = parse(`groups:\n  - name: g\n    ${lines}\n    rules: []\n`);
    expect(r.lines).toEqual([`r.yaml:${expected}`]);
  });

  it.each([
    ['missing name', 'groups:\n  - interval: 1m\n    rules: []\n', ['r.yaml:2:5: group is missing required key "name"']],
    ['missing rules', 'groups:\n  - name: g\n    interval: 1m\n', ['r.yaml:2:5: group is missing required key "rules"']],
    ['rules not a list', 'groups:\n  - name: g\n    interval: 1m\n    rules: {}\n', ['r.yaml:4:12: rules: expected a list, got a mapping']],
    ['groups not a list', 'groups: agent-drift\n', ['r.yaml:1:9: groups: expected a list, got a string']],
    ['unknown top-level key', 'groups: []\nrule_files: [a]\n', ['r.yaml:2:1: unknown key "rule_files" in rule file (allowed: groups)']],
    ['top level is a list', '- a\n- b\n', ['r.yaml:1:1: rule file: expected a mapping, got a list']],
    ['rule not a mapping', 'groups:\n  - name: g\n    interval: 1m\n    rules: [ToolCallsUp]\n', ['r.yaml:4:13: rule: expected a mapping, got a string']],
    ['duplicate key (YAML)', 'groups: []\ngroups: []\n', ['r.yaml:2:1: YAML: this key is written twice in the same mapping: keep one']],
    ['tab indentation (YAML)', 'groups:\n\t- name: g\n', ['r.yaml:2:1: YAML: indent with spaces: YAML does not allow tabs for indentation']],
  ])('file: %s', (_name, text, expected) => {
    expect(parse(text).lines).toEqual(expected);
  });

  it('accepts an empty file and a file of comments as no groups', () => {
    expect(parse('').ruleSet).toEqual({ groups: [] });
    expect(parse('# nothing yet\n').ruleSet).toEqual({ groups: [] });
    expect(parse('groups: []\n').ruleSet).toEqual({ groups: [] });
  });

  it('refuses alias bombs instead of expanding them', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    const { lines } = parse(bomb);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^r\.yaml:1:1: YAML: .*alias/i);
  });
});

describe('a file with many errors', () => {
  it('reports every one of them, in order, with positions', async () => {
    const f = `${FIX}/many-errors.yaml`;
    const cols = 'workflow_id, agent_id, agent_version, tenant_id, environment, service_name, model, prompt_version, policy_version, outcome';
    const duration = 'use an integer with a unit (ms, s, m, h, d, w, y), largest first, e.g. 30s, 5m, 1h30m, 7d';
    const { ruleSet, problems } = await loadRuleFiles([f]);
    expect(ruleSet).toBeNull();
    expect(problems.map(formatProblem)).toEqual([
      `${f}:3:15: interval: invalid duration "5 minutes": ${duration}`,
      `${f}:4:5: unknown key "colour" in group (allowed: name, interval, cron, timeout, rules)`,
      `${f}:8:20: threshold: invalid percentage "20 percent": use e.g. 20%, 12.5% or a fraction like 0.2`,
      `${f}:9:17: window: invalid duration "7 days": ${duration}`,
      `${f}:10:33: group_by: unknown column "workflow_id); DROP TABLE x" (allowed: ${cols}, or attributes.KEY)`,
      `${f}:11:18: where: unknown column "environmnt" (allowed: ${cols}, or attributes.KEY)`,
      `${f}:11:49: where.model[1]: expected a string, got a number (quote it)`,
      `${f}:12:9: cost: option only for signal cost_per_success or cost, this rule's signal is tool_calls_per_run`,
      `${f}:13:9: unknown key "tresholds" in rule (did you mean "threshold"?)`,
      `${f}:14:16: duplicate alert name "CostUp" (first defined at ${f}:6)`,
      `${f}:15:17: signal: unknown signal "tool_call_per_run" (did you mean "tool_calls_per_run"?)`,
      `${f}:18:20: annotations.summary: bad template: unknown variable $oops (known: $labels.<name>, $value, $current, $baseline, $runs, $baseline_runs, $p_value)`,
      `${f}:18:20: annotations.summary: $labels.workflow_id is not a label of this rule's alerts and would render empty (its alerts have no labels): add workflow_id to group_by, or remove it`,
      `${f}:19:16: alert: invalid alert name "3rd": use letters, digits and _, not starting with a digit`,
      `${f}:20:17: signal: unknown signal "latency" (did you mean "duration"?)`,
      `${f}:21:20: threshold: must be greater than 0, got 0`,
      `${f}:22:19: labels: "alertname" is reserved (set by agentdrift itself: alertname, rule, signal, key)`,
      `${f}:22:33: labels: invalid label name "bad-name": use letters, digits and _, not starting with a digit`,
      `${f}:23:19: min_runs: must be a positive integer, got 0`,
      `${f}:24:23: significance: must be a number between 0 and 1 (exclusive), e.g. 0.01, got 1`,
      `${f}:25:37: baseline.seasonal_weeks: must be an integer from 1 to 12, got 13`,
      `${f}:26:9: rule is missing required key "alert"`,
      `${f}:27:20: threshold: a plain number is a fraction, so 20 would mean 2000%; write 20% (or 2000% if that is meant)`,
      `${f}:28:20: direction: output_schema_shift can only drift up (its effect size is never negative); with measure: share a fingerprint's share can move either way`,
      `${f}:29:17: window: must be at most 90d, got 91d`,
      `${f}:30:11: duplicate group name "broken" (first defined at ${f}:2)`,
      `${f}:31:11: cron: invalid cron expression "61 * * * *" (61 is a invalid expression for minute); e.g. "*/5 * * * *"`,
    ]);
  });

  it('quotes hostile text in messages and bounds its length', () => {
    const long = `x${'y'.repeat(500)}`;
    const { lines } = parse(oneRule(`${BASE}\ngroup_by: ["a\\nb", "${long}"]`));
    expect(lines[0]).toContain('unknown column "a\\nb"');
    expect(lines[1]).toContain(`unknown column "x${'y'.repeat(79)}..."`);
    expect(lines.join('\n')).not.toContain('\nb');
  });
});

describe('YAML syntax errors', () => {
  it('are problems with the position of the error, and stop checking that file', async () => {
    const f = `${FIX}/syntax.yaml`;
    const { ruleSet, problems } = await loadRuleFiles([f]);
    expect(ruleSet).toBeNull();
    expect(problems.map(formatProblem)).toEqual([`${f}:7:1: YAML: a list item must start with '- ' (or, if this line belongs to the item above, indent it like that item's keys)`]);
  });

  it.each([
    ['unclosed flow sequence', 'groups: [\n', 2, 1],
    ['unclosed quote', 'groups:\n  - name: "g\n', 3, 1],
    ['over-indented key', 'groups:\n  - name: g\n    interval: 5m\n      rules: []\n', 3, 15],
    ['under-indented key', 'groups:\n  - name: g\n   interval: 5m\n', 3, 1],
  ])('%s', (_name, text, line, col) => {
    const { lines } = parse(text);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(new RegExp(`^r\\.yaml:${line}:${col}: YAML: `));
  });
});

describe('loading files and directories', () => {
  it('loads every *.yml / *.yaml of a directory, sorted, skipping hidden and other files', async () => {
    const { ruleSet, problems, files } = await loadRuleFiles([`${FIX}/dir`]);
    expect(problems).toEqual([]);
    expect(files).toEqual([path.join(FIX, 'dir', 'a.yaml'), path.join(FIX, 'dir', 'b.yml')]);
    expect(ruleSet!.groups.map((g) => [g.name, g.file, g.rules.map((r) => r.alert)])).toEqual([
      ['a', path.join(FIX, 'dir', 'a.yaml'), ['CostPerSuccessUp']],
      ['b', path.join(FIX, 'dir', 'b.yml'), ['PolicyDown', 'SchemaShift']],
    ]);
    const [policy, schema] = ruleSet!.groups[1]!.rules;
    expect(policy).toMatchObject({ direction: 'down', threshold: 0.3, options: { per: 'run', escalations: false } });
    expect(schema).toMatchObject({ threshold: 0.125, baseline: { kind: 'previous', lengthMs: 14 * 86_400_000, offsetMs: 86_400_000 } });
  });

  it('reads a file named twice (or with its directory) once', async () => {
    const a = path.join(FIX, 'dir', 'a.yaml');
    const { problems, files } = await loadRuleFiles([a, `${FIX}/dir`, a]);
    expect(problems).toEqual([]);
    expect(files).toEqual([a, path.join(FIX, 'dir', 'b.yml')]);
  });

  it('finds duplicate names across files, pointing at the second and naming the first', async () => {
    const { ruleSet, problems } = await loadRuleFiles([`${FIX}/dup`]);
    expect(ruleSet).toBeNull();
    const a = path.join(FIX, 'dup', 'a.yaml');
    const b = path.join(FIX, 'dup', 'b.yaml');
    expect(problems.map(formatProblem)).toEqual([
      `${b}:8:16: duplicate alert name "CostPerSuccessUp" (first defined at ${a}:5)`,
      `${b}:11:11: duplicate group name "a" (first defined at ${a}:2)`,
    ]);
  });

  it('collects problems from every file, sorted by file then line', async () => {
    const { problems } = await loadRuleFiles([`${FIX}/syntax.yaml`, `${FIX}/missing.yaml`, `${FIX}/many-errors.yaml`]);
    const files = problems.map((p) => p.file);
    expect(new Set(files)).toEqual(new Set([`${FIX}/syntax.yaml`, `${FIX}/missing.yaml`, `${FIX}/many-errors.yaml`]));
    expect(files).toEqual([...files].sort());
    expect(problems.map(formatProblem)).toContain(`${FIX}/missing.yaml:1:1: no such file or directory`);
  });

  it('reports an empty directory: no rule could ever fire', async () => {
    const { ruleSet, problems } = await loadRuleFiles([`${FIX}/empty`]);
    expect(ruleSet).toBeNull();
    expect(problems.map(formatProblem)).toEqual([`${FIX}/empty:1:1: no rule files (*.yml, *.yaml) in directory`]);
  });

  it('loads the shipped rules/default.yaml without problems', async () => {
    const { ruleSet, problems } = await loadRuleFiles(['rules']);
    expect(problems).toEqual([]);
    const [group] = ruleSet!.groups;
    expect(group!.schedule).toEqual({ kind: 'interval', everyMs: 300_000 });
    expect(group!.rules.map((r) => [r.signal, r.direction, r.threshold, r.labels.severity])).toEqual([
      ['tool_calls_per_run', 'up', 0.2, 'warning'],
      ['policy_activation_rate', 'both', 0.25, 'warning'],
      ['cost_per_success', 'up', 0.2, 'critical'],
      ['output_schema_shift', 'up', 0.2, 'warning'],
      ['output_schema_shift', 'up', 0.3, 'warning'],
      ['error_rate', 'up', 0.5, 'critical'],
      ['duration', 'up', 0.25, 'warning'],
    ]);
    for (const r of group!.rules) {
      expect(r).toMatchObject({ where: { environment: 'prod' }, minRuns: 200, forMs: 1_800_000 });
      expect(Object.keys(r.annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
    }
    // Every default rule tests significance (a 5% chance of a false alert per series in 30 days of
    // looks), is confirmed by the last day, and compares robust windows (the default).
    expect(group!.rules.map((r) => r.significance)).toEqual(group!.rules.map(() => 0.05));
    expect(group!.rules.map((r) => r.confirmWindowMs)).toEqual(group!.rules.map(() => 86_400_000));
    expect(group!.rules.map((r) => r.baseline)).toEqual(group!.rules.map(() => ({ kind: 'previous', lengthMs: 7 * 86_400_000, offsetMs: 0 })));
    expect(group!.rules[3]!.options).toEqual({ measure: 'js_distance' });
    expect(group!.rules[4]!.options).toEqual({ measure: 'share' });
  });
});
