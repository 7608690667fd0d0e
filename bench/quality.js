#!/usr/bin/env node
// `npm run bench:quality`: detection quality of the default rules on generated scenarios with known
// truth (src/demo/quality.ts): one workflow per scenario, 42 days of runs, every change starting on
// the same Tuesday; one backtest of rules/ over the last 21 days at a 1h step scores them all.
// Writes bench/results/quality.json and prints, per scenario: detected, delay, false alerts, time to resolve,
// alert episodes per rule and, for spikes, echoes a week later; then the goals.
// The `signals` part (QUALITY_PARTS=rules,signals by default) scores the signals of issue 24 (latency,
// errors, failed tool calls, tokens, a judge score, a tenant budget, traffic that stops, a custom metric
// by a custom attribute) on scenarios of their own (src/demo/qualitySignals.ts) against
// bench/quality-signals.yaml, in a store of its own, and writes bench/results/quality-signals.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, benchMeta } from './meta.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const END = Date.parse(process.env.QUALITY_END ?? '2026-11-22T00:00:00Z');
const STEP_MS = Number(process.env.QUALITY_STEP_HOURS ?? 1) * HOUR;
const rulesPath = process.env.QUALITY_RULES ?? join(here, '../rules');
const outFile = process.env.QUALITY_OUT ?? join(RESULTS_DIR, 'quality.json');
// A firing this long after a one-day spike ended is an echo: the spike day sitting in a baseline.
const ECHO_AFTER_MS = 5 * DAY;
const PARTS = new Set((process.env.QUALITY_PARTS ?? 'rules,signals').split(',').filter(Boolean));
const signalsOut = process.env.QUALITY_SIGNALS_OUT ?? join(RESULTS_DIR, 'quality-signals.json');
const POLICY_STEPS = ['step-policy-50', 'step-policy-50-b', 'step-policy-50-c'];

/** Firing transitions per rule, rules that fired only: each one an alert episode. */
function episodesByRule(firings) {
  const out = {};
  for (const t of firings) out[t.rule] = (out[t.rule] ?? 0) + 1;
  return out;
}

/** Per stable family: workflows, group-weeks, false alerts and their rate per 100 group-weeks. */
function falseAlertsByFamily(stableRows, weeks) {
  const out = {};
  for (const r of stableRows) {
    const f = (out[r.family] ??= { workflows: 0, group_weeks: 0, false_alerts: 0, per_100_group_weeks: 0 });
    f.workflows++;
    f.false_alerts += r.false_alerts;
  }
  for (const f of Object.values(out)) {
    f.group_weeks = +(f.workflows * weeks).toFixed(1);
    f.per_100_group_weeks = +((100 * f.false_alerts) / (f.workflows * weeks)).toFixed(2);
  }
  return out;
}

const delayText = (r) => (r?.detected ? `${r.delay_hours} h` : 'missed');

/** The console form of a row: the episodes object as one short cell. */
const printable = (r) => ({ ...r, episodes_by_rule: r.episodes_by_rule === null ? null : Object.entries(r.episodes_by_rule).map(([k, v]) => `${k}:${v}`).join(' ') });

const { openClickHouse } = await import('../dist/clickhouse/client.js');
const { parseTarget } = await import('../dist/clickhouse/target.js');
const { migrate } = await import('../dist/store/migrate.js');
const { DEFAULT_NAMES, qualified } = await import('../dist/store/schema.js');
const { loadRuleFiles } = await import('../dist/rules/load.js');
const { backtest } = await import('../dist/engine/backtest.js');
const { qualityPlan, qualityRows, changedSignal } = await import('../dist/demo/quality.js');
const { terminalProgress } = await import('../dist/util/progress.js');

if (PARTS.has('rules')) {
const dir = mkdtempSync(join(tmpdir(), 'agentdrift-quality-'));
const ch = await openClickHouse(parseTarget(`chdb:${dir}`), {});
try {
  const names = { database: 'default', ...DEFAULT_NAMES };
  await migrate(ch, names);
  const plan = qualityPlan(END);
  const t0 = performance.now();
  let inserted = 0;
  for (const batch of qualityRows(plan)) {
    await ch.insert(qualified('default', names.agentRuns), batch);
    inserted += batch.length;
    process.stderr.write(`\rgenerating: ${inserted} runs`);
  }
  process.stderr.write(`\rgenerated ${inserted} runs for ${plan.scenarios.length} scenarios in ${((performance.now() - t0) / 1000).toFixed(1)}s\n`);

  const { ruleSet, problems } = await loadRuleFiles([rulesPath]);
  if (!ruleSet) throw new Error(problems.map((p) => p.message).join('\n'));
  const fromMs = END - 21 * DAY;
  const progress = terminalProgress(process.stderr, 'backtesting', 'group evaluations');
  let started = false;
  const t1 = performance.now();
  const result = await backtest({
    query: (sql, params, signal) => ch.query(sql, params, { signal }),
    table: qualified('default', names.agentRuns),
    rules: ruleSet,
    fromMs,
    toMs: END,
    stepMs: STEP_MS,
    onProgress: (done, total) => {
      if (!started) progress.start(total);
      started = true;
      progress.update(done);
    },
  });
  progress.stop();
  const backtestSeconds = (performance.now() - t1) / 1000;

  const signalOf = new Map(ruleSet.groups.flatMap((g) => g.rules.map((r) => [r.alert, r.signal])));
  // Rules with a window of 7 days or more are the "long-window drift alerts"; shorter ones warn fast.
  const longRule = new Map(ruleSet.groups.flatMap((g) => g.rules.map((r) => [r.alert, r.windowMs >= 7 * DAY])));
  const firings = result.transitions.filter((t) => t.to === 'firing');
  const weeks = (END - fromMs) / (7 * DAY);
  // A one-day spike ends a day after it starts; what fires on its signal 5 days after that is an echo.
  const echoFrom = plan.changeAt + DAY + ECHO_AFTER_MS;
  const rows = plan.scenarios.map((s) => {
    const mine = firings.filter((t) => t.labels.workflow_id === s.workflowId);
    const signal = changedSignal(s);
    const at = (t) => Date.parse(t.at);
    const before = mine.filter((t) => signal === null || at(t) < plan.changeAt);
    const hits = signal === null ? [] : mine.filter((t) => at(t) >= plan.changeAt && signalOf.get(t.rule) === signal);
    const other = signal === null ? [] : mine.filter((t) => at(t) >= plan.changeAt && signalOf.get(t.rule) !== signal);
    const first = hits[0];
    const episodes = signal === null ? null : episodesByRule(hits);
    let resolveAfterRevertH = null;
    if (s.change.kind === 'revert' && first) {
      const revertAt = plan.changeAt + s.change.days * DAY;
      const res = result.transitions.find((t) => t.labels.workflow_id === s.workflowId && t.from === 'firing' && at(t) >= revertAt && signalOf.get(t.rule) === signal);
      resolveAfterRevertH = res ? +((at(res) - revertAt) / HOUR).toFixed(1) : null;
    }
    return {
      scenario: s.workflowId,
      family: s.family,
      signal: signal ?? '-',
      runs_per_day: s.runsPerDay,
      detected: signal === null ? null : first !== undefined,
      delay_hours: first ? +((at(first) - plan.changeAt) / HOUR).toFixed(1) : null,
      alerts_on_changed_signal: hits.length,
      long_window_alerts: hits.filter((t) => longRule.get(t.rule)).length,
      short_window_alerts: hits.filter((t) => !longRule.get(t.rule)).length,
      alerts_on_other_signals: other.length,
      false_alerts: before.length,
      resolve_after_revert_hours: resolveAfterRevertH,
      episodes_max_per_rule: episodes === null ? null : Math.max(0, ...Object.values(episodes)),
      episodes_by_rule: episodes,
      echo_alerts: s.change.kind === 'spike' ? hits.filter((t) => at(t) >= echoFrom).length : null,
    };
  });

  const stable = rows.filter((r) => r.signal === '-');
  const falsePer100 = (100 * stable.reduce((n, r) => n + r.false_alerts, 0)) / (stable.length * weeks);
  const median = (xs) => {
    const v = xs.filter((x) => x !== null).sort((a, b) => a - b);
    if (v.length < xs.length) return null; // a missed detection: the median is undefined, not small
    return v.length === 0 ? null : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const step50 = rows.filter((r) => r.family === 'step +50%');
  const weekday = rows.find((r) => r.family === 'weekday doubling');
  const spikes = rows.filter((r) => r.family === 'one-day spike');
  const falseByFamily = falseAlertsByFamily(stable, weeks);
  const changed = rows.filter((r) => r.signal !== '-');
  // A weekday-only change recurs: each of its weekdays is a change of its own, and an episode each is right.
  const maxEpisodes = Math.max(0, ...changed.filter((r) => r.family !== 'weekday doubling').map((r) => r.episodes_max_per_rule));
  const share = rows.find((r) => r.scenario === 'share-schema-30-45');
  const policy50 = POLICY_STEPS.map((id) => rows.find((r) => r.scenario === id));
  const policyMissed = POLICY_STEPS.filter((_, i) => !policy50[i]?.detected);
  const policyMax = policyMissed.length === 0 ? Math.max(...policy50.map((r) => r.delay_hours)) : null;
  const low = rows.filter((r) => r.family === 'step at 100 runs/day');
  const lowDetected = low.filter((r) => r.detected).length;
  const spikeLong = spikes.reduce((n, r) => n + r.long_window_alerts, 0);
  const spikeEcho = spikes.reduce((n, r) => n + r.echo_alerts, 0);
  const step50Median = median(step50.map((r) => r.delay_hours));
  // The weekday change starts Tuesday 09:00: its first day ends 15 h later, the goal allows 24 h more.
  const goals = [
    { goal: 'weekday-recurring doubling fires within 24 h of the end of its first day', target: '<= 39 h', measured: weekday?.delay_hours ?? 'missed', met: weekday?.delay_hours !== null && weekday?.delay_hours !== undefined && weekday.delay_hours <= 39 },
    // Round two tightened this goal from under 24 h to 12 h; the computation is the same.
    { goal: '+50% step fires with median delay of 12 h or less (500 runs/day)', target: '<= 12 h', measured: step50Median ?? `missed ${step50.filter((r) => !r.detected).map((r) => r.signal).join(', ')}`, met: (step50Median ?? Infinity) <= 12 },
    { goal: 'false alerts per 100 group-weeks on stable workflows (all stable families, 50 and 100 runs/day included)', target: '<= 1', measured: +falsePer100.toFixed(2), met: falsePer100 <= 1 },
    {
      goal: 'one-day spike: no long-window drift alert, at most one short-lived warning',
      target: '0 long, <= 1 short each',
      measured: `${spikes.reduce((n, r) => n + r.long_window_alerts, 0)} long, ${spikes.map((r) => r.short_window_alerts).join('/')} short`,
      met: spikes.every((r) => r.long_window_alerts === 0 && r.short_window_alerts <= 1),
    },
    { goal: 'one-day spikes: no 7-day alert and no echo a week later', target: '0 and 0', measured: `${spikeLong} long, ${spikeEcho} echo`, met: spikeLong === 0 && spikeEcho === 0 },
    { goal: 'alert episodes per change per rule (a weekday-only change recurs: not counted)', target: '<= 1', measured: maxEpisodes, met: maxEpisodes <= 1 },
    { goal: 'a growing fingerprint share (30% -> 45%) fires', target: 'detected', measured: share?.detected ? share.delay_hours : 'missed', met: share?.detected === true },
    {
      goal: 'policy +50% steps fire within 24 h (500 runs/day)',
      target: '<= 24 h',
      measured: policyMax ?? `missed ${policyMissed.join(', ')}; detected ${policy50.filter((r) => r?.detected).map((r) => `${r.scenario} ${delayText(r)}`).join(', ') || 'none'}`,
      met: policyMax !== null && policyMax <= 24,
    },
    { goal: 'steps at 100 runs/day fire', target: 'all 4', measured: `${lowDetected}/${low.length}: ${low.map((r) => `${r.scenario} ${delayText(r)}`).join(', ')}`, met: low.length === 4 && lowDetected === 4 },
  ];
  const report = {
    meta: benchMeta(
      `detection quality of the rules in ${rulesPath}: ${plan.scenarios.length} generated workflows with known changes (${inserted} runs over 42 days), ` +
        `one backtest over the last 21 days at a ${STEP_MS / HOUR} h step; per scenario detected, delay, false alerts, time to resolve, alert episodes per rule, spike echoes; false alerts per stable family; and the goals`,
    ),
    date_of_data_end: new Date(END).toISOString(),
    rules: rulesPath,
    step_hours: STEP_MS / HOUR,
    backtest_from: new Date(fromMs).toISOString(),
    change_at: new Date(plan.changeAt).toISOString(),
    runs: inserted,
    backtest_seconds: +backtestSeconds.toFixed(1),
    stable_group_weeks: +(stable.length * weeks).toFixed(1),
    false_alerts_per_100_group_weeks: +falsePer100.toFixed(2),
    false_alerts_by_family: falseByFamily,
    goals,
    scenarios: rows,
  };
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  console.table(changed.map(printable));
  console.log(`stable workflows: ${stable.length}, ${report.stable_group_weeks} group-weeks, ${stable.reduce((n, r) => n + r.false_alerts, 0)} false alerts (${report.false_alerts_per_100_group_weeks} per 100 group-weeks)`);
  console.table(falseByFamily);
  const repeated = changed.filter((r) => r.episodes_max_per_rule > 1);
  if (repeated.length > 0) console.log(`more than one episode per rule: ${repeated.map((r) => `${r.scenario} (${printable(r).episodes_by_rule})`).join(', ')}`);
  console.table(goals);
} finally {
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
}
}

// --- the signals of issue 24 -----------------------------------------------------------------------
if (PARTS.has('signals')) {
  const { signalPlan, signalRows, matches } = await import('../dist/demo/qualitySignals.js');
  const { findAggregates } = await import('../dist/store/aggregatesMigrate.js');
  const { DEFAULT_AGGREGATE_DIMENSIONS } = await import('../dist/store/aggregates.js');
  const rulesFile = process.env.QUALITY_SIGNALS_RULES ?? join(here, 'quality-signals.yaml');
  const dir = mkdtempSync(join(tmpdir(), 'agentdrift-quality-signals-'));
  const ch = await openClickHouse(parseTarget(`chdb:${dir}`), {});
  try {
    const names = { database: 'default', ...DEFAULT_NAMES };
    // attributes.region pre-aggregated, as a team grouping by it would configure; tenant_id is not
    // among the dimensions, so the budget rule reads agent_runs (the ad hoc path).
    const aggregates = { enabled: true, dimensions: [...DEFAULT_AGGREGATE_DIMENSIONS, 'attributes.region'] };
    await migrate(ch, names, { aggregates });
    const plan = signalPlan(END);
    const t0 = performance.now();
    let inserted = 0;
    for (const batch of signalRows(plan)) {
      await ch.insert(qualified('default', names.agentRuns), batch);
      inserted += batch.length;
      process.stderr.write(`\rgenerating: ${inserted} runs`);
    }
    process.stderr.write(`\rgenerated ${inserted} runs for ${plan.scenarios.length} signal scenarios in ${((performance.now() - t0) / 1000).toFixed(1)}s\n`);
    const { ruleSet, problems } = await loadRuleFiles([rulesFile]);
    if (!ruleSet) throw new Error(problems.map((p) => p.message).join('\n'));
    const source = await findAggregates(ch, names, aggregates);
    if (!source) throw new Error('the signals store has no ready aggregates');
    const fromMs = END - 21 * DAY;
    const progress = terminalProgress(process.stderr, 'backtesting the signals', 'group evaluations');
    let started = false;
    const t1 = performance.now();
    const result = await backtest({
      query: (sql, params, signal) => ch.query(sql, params, { signal }),
      table: qualified('default', names.agentRuns),
      aggregates: source,
      rules: ruleSet,
      fromMs,
      toMs: END,
      stepMs: STEP_MS,
      onProgress: (done, total) => {
        if (!started) progress.start(total);
        started = true;
        progress.update(done);
      },
    });
    progress.stop();
    const backtestSeconds = (performance.now() - t1) / 1000;
    const at = (t) => Date.parse(t.at);
    const firings = result.transitions.filter((t) => t.to === 'firing');
    const byTenant = new Map(plan.scenarios.filter((s) => s.tenant).map((s) => [s.tenant, s]));
    const scenarioOf = (t) => plan.scenarios.find((s) => s.workflowId === t.labels.workflow_id) ?? byTenant.get(t.labels.tenant_id) ?? null;
    // Each firing is expected (a series the scenario must fire, after the change), allowed (a rule the
    // scenario allows, within its count) or false.
    const allowedUsed = new Map();
    const classified = firings.map((t) => {
      const s = scenarioOf(t);
      const after = at(t) >= plan.changeAt;
      let kind = 'false';
      if (s && after && s.expect.some((e) => matches(e, t.rule, t.labels))) kind = 'expected';
      else if (s && after && (s.allow ?? []).includes(t.rule)) {
        const n = (allowedUsed.get(s.workflowId) ?? 0) + 1;
        allowedUsed.set(s.workflowId, n);
        kind = n <= (s.allowAtMost ?? Infinity) ? 'allowed' : 'false';
      }
      return { at: t.at, rule: t.rule, labels: t.labels, scenario: s?.workflowId ?? null, kind };
    });
    const hours = (t) => +((at(t) - plan.changeAt) / HOUR).toFixed(1);
    const rows = plan.scenarios.map((s) => {
      const mine = classified.filter((c) => c.scenario === s.workflowId);
      const expected = mine.filter((c) => c.kind === 'expected');
      const firstByRule = {};
      for (const c of expected) firstByRule[c.rule] ??= hours(c);
      const episodes = {};
      for (const c of expected) episodes[c.rule] = (episodes[c.rule] ?? 0) + 1;
      return {
        scenario: s.workflowId,
        family: s.family,
        runs_per_day: s.runsPerDay,
        expected_series: s.expect.map((e) => `${e.alerts.join('|')} {${Object.entries(e.labels).map(([k, v]) => `${k}=${v}`).join(',')}}`).join('; ') || '-',
        detected: s.expect.length === 0 ? null : expected.length > 0,
        delay_hours: expected.length > 0 ? Math.min(...Object.values(firstByRule)) : null,
        first_firing_by_rule_hours: s.expect.length === 0 ? null : firstByRule,
        episodes_by_rule: s.expect.length === 0 ? null : episodes,
        allowed_alerts: mine.filter((c) => c.kind === 'allowed').map((c) => `${c.rule} +${hours(c)} h`),
        false_alerts: mine.filter((c) => c.kind === 'false').length,
        false_alert_list: mine.filter((c) => c.kind === 'false').map((c) => `${c.rule} ${JSON.stringify(c.labels)} at ${c.at}`),
      };
    });
    const unattributed = classified.filter((c) => c.scenario === null);
    const falseAll = classified.filter((c) => c.kind === 'false');
    const controls = plan.scenarios.filter((s) => s.expect.length === 0 && !s.allow);
    const weeks = (END - fromMs) / (7 * DAY);
    const controlFalse = rows.filter((r) => controls.some((s) => s.workflowId === r.scenario)).reduce((n, r) => n + r.false_alerts, 0);
    const falseByRule = {};
    for (const r of ruleSet.groups.flatMap((g) => g.rules)) falseByRule[r.alert] = falseAll.filter((c) => c.rule === r.alert).length;
    const report = {
      meta: benchMeta(
        `detection quality of the signals of issue 24: ${plan.scenarios.length} generated workflows (${inserted} runs over 42 days; aggregates keyed by ${aggregates.dimensions.join(', ')}), ` +
          `rules ${rulesFile}, one backtest over the last 21 days at a ${STEP_MS / HOUR} h step; per scenario the series that must fire, detected, delay, and every other firing (false alerts)`,
      ),
      date_of_data_end: new Date(END).toISOString(),
      rules: rulesFile,
      step_hours: STEP_MS / HOUR,
      backtest_from: new Date(fromMs).toISOString(),
      change_at: new Date(plan.changeAt).toISOString(),
      runs: inserted,
      backtest_seconds: +backtestSeconds.toFixed(1),
      control_workflows: controls.length,
      control_group_weeks: +(controls.length * weeks).toFixed(1),
      false_alerts_on_controls: controlFalse,
      false_alerts_total: falseAll.length,
      false_alerts_by_rule: falseByRule,
      firings_outside_any_scenario: unattributed.map((c) => `${c.rule} ${JSON.stringify(c.labels)} at ${c.at}`),
      scenarios: rows,
    };
    writeFileSync(signalsOut, `${JSON.stringify(report, null, 2)}\n`);
    console.table(rows.map((r) => ({ scenario: r.scenario, detected: r.detected, delay_hours: r.delay_hours, first_by_rule: r.first_firing_by_rule_hours === null ? '-' : Object.entries(r.first_firing_by_rule_hours).map(([k, v]) => `${k}:${v}h`).join(' '), allowed: r.allowed_alerts.join(', '), false_alerts: r.false_alerts })));
    console.log(`signals: ${controls.length} control workflows (${report.control_group_weeks} group-weeks), ${controlFalse} false alerts on them; ${falseAll.length} false alerts in all; firings outside any scenario: ${unattributed.length}`);
    for (const c of falseAll) console.log(`  false: ${c.rule} ${JSON.stringify(c.labels)} at ${c.at}`);
  } finally {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
