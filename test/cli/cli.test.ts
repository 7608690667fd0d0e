/** The command line as a user runs it: the real launcher, the embedded store, exit codes. */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const END = '2026-11-22T03:00:00Z';
let cwd: string;

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'agentdrift-cli-'));
  cpSync(resolve(__dirname, '../../rules'), join(cwd, 'rules'), { recursive: true });
});

describe('agentdrift CLI on the embedded default store', () => {
  it('migrate creates the contract, twice without harm', () => {
    const first = runCli(['migrate'], cwd);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/created\s+table default\.agent_runs/);
    expect(first.stdout).toMatch(/created\s+materialized view default\.agent_runs_from_otel/);
    const second = runCli(['migrate'], cwd);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toMatch(/created/);
  });

  it('demo seed prints what it injected and when, with progress on stderr', () => {
    const r = runCli(['demo', 'seed', '--days', '28', '--end', END], cwd);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^seeded \d+ runs from 2026-10-25T03:00:00.000Z to 2026-11-22T03:00:00.000Z/m);
    expect(r.stdout).toMatch(/tool_calls_per_run\s+invoice_enrichment\s+from 2026-11-\d\dT09:00:00.000Z \(Tuesday\)/);
    expect(r.stdout).toMatch(/policy_activation_rate\s+support_triage/);
    expect(r.stdout).toMatch(/cost_per_success\s+refund_processing/);
    expect(r.stdout).toMatch(/output_schema_shift\s+report_generation/);
    expect(r.stderr).toMatch(/seeding: \d+\/\d+ runs \(100%\)/);
  }, 120_000);

  it('demo seed refuses a store that already holds data, and says what to pass instead', () => {
    const r = runCli(['demo', 'seed', '--days', '28', '--end', END], cwd);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(/^agentdrift: chdb:\S+ \(database default\) already holds \d{6} runs \(agent_runs\) and \d{6} spans \(otel_traces\): seeding would add the demo to them\. Pass --append to do that, --reset to delete them first, or --if-empty to leave them alone$/);
    const skip = runCli(['demo', 'seed', '--if-empty'], cwd);
    expect(skip.code).toBe(0);
    expect(skip.stdout.trim()).toMatch(/already holds \d+ runs .*: not seeding \(--if-empty\)$/);
    const both = runCli(['demo', 'seed', '--append', '--reset'], cwd);
    expect(both.code).toBe(2);
    expect(both.stderr.trim()).toBe('agentdrift: --append and --reset exclude each other');
  });

  it('demo seed --append adds to the store, --reset replaces what it holds', () => {
    const small = ['--clickhouse', 'chdb:./small', '--days', '1', '--runs-per-day', '200', '--end', END];
    const runs = () => Number(/agent runs:\s+(\d+)/.exec(runCli(['status', '--clickhouse', 'chdb:./small'], cwd).stdout)?.[1]);
    expect(runCli(['demo', 'seed', ...small], cwd).code).toBe(0);
    const once = runs();
    expect(once).toBeGreaterThan(0);
    const appended = runCli(['demo', 'seed', ...small, '--append'], cwd);
    expect(appended.code).toBe(0);
    expect(runs()).toBe(2 * once);
    const reset = runCli(['demo', 'seed', ...small, '--reset'], cwd);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(new RegExp(`^deleted ${2 * once} runs and \\d+ spans \\(--reset\\)$`, 'm'));
    expect(runs()).toBe(once);
  });

  it('status reports runs and malformed rows', () => {
    const r = runCli(['status'], cwd);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/agent runs:\s+\d{6}/);
    expect(r.stdout).toMatch(/malformed runs: [1-9]\d*/);
  });

  it('rollup over the demo writes no second row: every run is summarized on its root span', () => {
    const r = runCli(['rollup', '--from', '2026-11-21T00:00:00Z', '--to', END], cwd);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rolled up runs that ended from 2026-11-21T00:00:00.000Z to 2026-11-22T03:00:00.000Z in 5 passes/m);
    expect(r.stdout).toMatch(/^0 spans and 0 runs seen, 0 runs written; skipped: 0 runs already in agent_runs, [1-9]\d+ runs summarized on the root span/m);
    expect(r.stderr).toMatch(/rolling up: 27\/27 hours \(100%\)/);
    const status = runCli(['status'], cwd);
    expect(status.stdout).toMatch(/^span rollup:\s+5 passes, no scheduled pass yet/m);
    expect(status.stdout).toMatch(/^  seen:\s+0 spans, 0 runs; written: 0 runs/m);
    expect(status.stdout).toMatch(/^  skipped:\s+0 runs already in agent_runs; [1-9]\d+ runs summarized on their root span/m);
  });

  it('rollup wants --to after --from', () => {
    const r = runCli(['rollup', '--from', END, '--to', '2026-11-21T00:00:00Z'], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--to must be after --from/);
  });

  it('eval --once --format json prints one result per rule, group and key', () => {
    const r = runCli(['eval', '--once', '--at', END, '--format', 'json', '--state', 'all'], cwd);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(Object.keys(rows[0]!).sort()).toEqual(
      ['baseline', 'baseline_runs', 'current', 'current_runs', 'deviation', 'deviation_kind', 'error', 'example_run_ids', 'explanation', 'is_new', 'key', 'labels', 'p_value', 'rule', 'signal', 'state'].sort(),
    );
    const firing = rows.filter((x) => x.state === 'firing').map((x) => `${x.signal}:${(x.labels as Record<string, string>).workflow_id}:${x.key}`);
    expect(firing).toEqual(
      expect.arrayContaining([
        'tool_calls_per_run:invoice_enrichment:enrich_company',
        'policy_activation_rate:support_triage:',
        'cost_per_success:refund_processing:',
        'output_schema_shift:report_generation:',
      ]),
    );
    const tool = rows.find((x) => x.key === 'enrich_company')!;
    expect(tool.p_value).not.toBeNull();
    expect(tool.deviation as number).toBeGreaterThan(0.2);
    // Firing series come with their explanation and example runs.
    expect((tool.explanation as { cause: string }).cause).toMatch(/^prompt_version enrich-v13 explains/);
    expect(tool.example_run_ids as string[]).toHaveLength(5);
    expect(rows.find((x) => x.state === 'inactive')!.explanation).toBeNull();
    // A distance (the tool mix, the schema's Jensen-Shannon distance) has no baseline value of its own.
    const mix = rows.find((x) => x.key === '__mix__')!;
    expect(mix).toMatchObject({ deviation_kind: 'js_distance', baseline: null, is_new: false });
    expect(rows.find((x) => x.signal === 'output_schema_shift' && x.rule === 'OutputSchemaShift')).toMatchObject({ deviation_kind: 'js_distance', baseline: null });
    // Sorted: firing first, then pending, then the rest.
    const rank = (s: unknown) => ['firing', 'pending'].indexOf(String(s)) >>> 0;
    const ranks = rows.map((x) => rank(x.state));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    // Without --state, inactive series are left out.
    const active = JSON.parse(runCli(['eval', '--at', END, '--format', 'json'], cwd).stdout) as Record<string, unknown>[];
    expect(active.length).toBeGreaterThan(0);
    expect(active.every((x) => x.state !== 'inactive')).toBe(true);
    expect(active.length).toBeLessThan(rows.length);
  }, 120_000);

  it('eval --fail-on gates CI: exit 1 when a series is in that state or worse, 0 with none (the default)', () => {
    const cases: [string[], number][] = [
      [[], 0],
      [['--fail-on', 'none'], 0],
      [['--fail-on', 'firing'], 1],
      [['--fail-on', 'pending'], 1],
      // A time before any run: nothing fires.
      [['--fail-on', 'firing', '--at', '2026-10-26T00:00:00Z'], 0],
    ];
    for (const [args, code] of cases) {
      const r = runCli(['eval', '--at', END, '--format', 'json', ...args], cwd);
      expect(r.code, args.join(' ')).toBe(code);
    }
    const bad = runCli(['eval', '--fail-on', 'warning'], cwd);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('agentdrift: --fail-on must be firing or pending or none');
  }, 120_000);

  it('explain prints when, what moved, which change and which runs; --format json; usage errors', () => {
    const args = ['explain', 'ToolCallsPerRunUp', '--group', 'workflow_id=invoice_enrichment', 'tool=enrich_company', '--at', END];
    const r = runCli(args, cwd);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ToolCallsPerRunUp workflow_id=invoice_enrichment tool=enrich_company as of 2026-11-22T03:00:00.000Z$/m);
    expect(r.stdout).toMatch(/^ {2}started 2026-11-17 09:00 UTC ± 1 h \(Tuesday\)$/m);
    expect(r.stdout).toMatch(/^ {2}enrich_company 1\.1 → 1\.7\d \(\+0\.6\d+, >99% of the change\)$/m);
    // A firing series starts with its header; the 90% interval of zero width is left to the onset's ±.
    expect(r.stdout.split('\n')[0]).toMatch(/^ToolCallsPerRunUp /);
    expect(r.stdout).not.toMatch(/interval 2026-11-17 09:00 UTC to 2026-11-17 09:00 UTC/);
    // What moved names its total: every tool's calls per run, not the tool's value in the headline.
    expect(r.stdout).toMatch(/^What moved \(calls per run over all tools \d\.\d+ → \d\.\d+, by tool\)$/m);
    expect(r.stdout).not.toMatch(/-\d+% of the change|\b(?:10[1-9]|1[1-9]\d|[2-9]\d\d)% of the change/);
    expect(r.stdout).toMatch(/^ {2}prompt_version enrich-v13 explains 100% of the change/m);
    expect(r.stdout.match(/^ {2}run-\S+ {2}trace [0-9a-f]{32} /gm)).toHaveLength(5);
    const jsonText = runCli([...args, '--format', 'json'], cwd).stdout;
    const json = JSON.parse(jsonText) as { state: string; at: string; windowStart: string; attribution: { causes: { value: string }[] }; examples: { timestamp: string }[] }[];
    expect(json).toHaveLength(1);
    expect(json[0]!.attribution.causes[0]!.value).toBe('enrich-v13');
    expect(json[0]).toMatchObject({ state: 'firing', at: '2026-11-22T03:00:00.000Z', windowStart: '2026-11-15T03:00:00.000Z' });
    expect(json[0]!.examples[0]!.timestamp).toMatch(/^2026-11-\d\dT/);
    expect(jsonText).not.toMatch(/[:,[]\s*-?\d{12,}[,}\]\s]/); // no epoch milliseconds anywhere
    // A series that is not firing says so first, and why.
    const quiet = runCli(['explain', 'PolicyActivationRateChanged', '--group', 'workflow_id=lead_scoring', '--at', END], cwd);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout.split('\n')[0]).toMatch(/^not firing: inactive, deviation [-+]\d+\.\d% is within the threshold ±\d+%$/);
    const unknown = runCli(['explain', 'NoSuchRule', '--at', END], cwd);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^agentdrift: no rule named "NoSuchRule" in rules; known rules: ToolCallsPerRunUp, /);
    const none = runCli(['explain', 'ToolCallsPerRunUp', '--group', 'workflow_id=nope', '--at', END], cwd);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^agentdrift: no series of ToolCallsPerRunUp matches workflow_id=nope/);
  });

  it('eval prints a table by default, with or without --once (it always evaluates once)', () => {
    const r = runCli(['eval', '--at', END], cwd);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^RULE\s+GROUP\s+KEY\s+CURRENT\s+BASELINE\s+DEVIATION\s+RUNS\s+P\s+STATE$/);
    expect(lines[1]).toMatch(/ firing$/);
    expect(r.stdout).toMatch(/enrich_company .* firing/);
    expect(r.stdout).not.toMatch(/ inactive$/m);
    expect(r.stdout).toMatch(/^\d+ inactive series not shown \(--state all shows every series\)$/m);
    // A distance reads as one, and a p-value too small for a double is not "0".
    expect(r.stdout).toMatch(/^OutputSchemaShift\s+workflow_id=report_generation\s+-\s+-\s+-\s+JSD 0\.\d\d\s+\d+\/\d+\s+\S+\s+firing$/m);
    expect(r.stdout).not.toMatch(/\s0\s+(firing|pending|inactive)$/m);
    expect(runCli(['eval', '--once', '--at', END], cwd).stdout).toBe(r.stdout);
    const all = runCli(['eval', '--at', END, '--state', 'all'], cwd).stdout;
    expect(all).toMatch(/__mix__\s+-\s+-\s+JSD 0\.\d\d\s/);
    expect(all).not.toMatch(/not shown/);
    // --format table is the old name of text: the same output, and a note on stderr.
    const table = runCli(['eval', '--at', END, '--format', 'table'], cwd);
    expect(table.code).toBe(0);
    expect(table.stdout).toBe(r.stdout);
    expect(table.stderr.trim()).toBe('agentdrift: --format table is deprecated: use --format text');
  }, 120_000);

  it('--version prints the version from package.json', () => {
    const { version } = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = runCli([flag], cwd);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });

  it('backtest replays the default rules over the demo and prints transitions and a summary as JSON', () => {
    // Two days before the demo's end, every 6 hours: the injected drifts start 3 to 10 days before it.
    const from = new Date(Date.parse(END) - 2 * 86_400_000).toISOString();
    const r = runCli(['backtest', '--from', from, '--to', END, '--step', '6h', '--format', 'json'], cwd);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/backtesting: 18\/18 group evaluations \(100%\)/);
    const out = JSON.parse(r.stdout) as { evaluations: number; span_days: number; transitions: Record<string, unknown>[]; summary: { rule: string; alerts: number; alerts_per_week: number | null }[] };
    expect(out.evaluations).toBe(18);
    expect(Object.keys(out.transitions[0]!).sort()).toEqual(['at', 'baseline', 'current', 'deviation', 'deviation_kind', 'from', 'labels', 'p_value', 'reason', 'rule', 'signal', 'to'].sort());
    // Two days are not extrapolated to a week.
    expect(out.span_days).toBe(2);
    expect(out.summary.every((s) => s.alerts_per_week === null)).toBe(true);
    // The first evaluation already finds the drifts firing (warm start over `for`, as a daemon would).
    const firstFiring = out.transitions.filter((t) => t.to === 'firing' && t.at === from).map((t) => `${t.rule}/${(t.labels as Record<string, string>).workflow_id}`);
    expect(firstFiring).toEqual(expect.arrayContaining(['ToolCallsPerRunUp/invoice_enrichment', 'OutputSchemaShift/report_generation']));
    expect(out.summary.map((s) => s.rule)).toEqual([
      'ToolCallsPerRunUp', 'PolicyActivationRateChanged', 'CostPerSuccessUp', 'OutputSchemaShift', 'OutputShapeShareUp', 'ErrorRateUp', 'DurationP95Up',
      'ToolCallsPerRunUpFast', 'PolicyActivationRateChangedFast', 'CostPerSuccessUpFast', 'OutputSchemaShiftFast', 'ErrorRateUpFast', 'DurationP95UpFast',
    ]);
    // Every drift the demo injects fires its rules; no existing output shape grows in it, so the share rule stays quiet.
    expect(out.summary.filter((s) => s.alerts === 0).map((s) => s.rule)).toEqual(['OutputShapeShareUp']);
    const bad = runCli(['backtest', '--from', END, '--to', from], cwd);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--to must be after --from/);
  });

  it('backtest takes relative times and prints aligned tables, deviations as eval does', () => {
    const r = runCli(['backtest', '--from', '2026-11-20T03:00:00Z', '--to', END, '--step', '6h'], cwd);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^backtest 2026-11-20T03:00:00\.000Z \.\. 2026-11-22T03:00:00\.000Z \(2 days\): 18 group evaluations, \d+ transitions$/);
    expect(r.stdout).toMatch(/^AT\s+SERIES\s+TRANSITION\s+VALUE\s+BASELINE\s+DEVIATION\s+P$/m);
    expect(r.stdout).toMatch(/OutputSchemaShift\{workflow_id=report_generation\}\s+pending -> firing\s+-\s+-\s+JSD 0\.\d\d\s/);
    expect(r.stdout).toMatch(/ToolCallsPerRunUp\{workflow_id=invoice_enrichment,tool=enrich_company\}\s+pending -> firing\s+\S+\s+\S+\s+\+\d+\.\d%\s/);
    expect(r.stdout).toMatch(/^RULE\s+SIGNAL\s+ALERTS\s+FIRING_HOURS$/m);
    expect(lines.at(-2)).toBe('alerts and firing hours over 2 days; alerts per week need a span of at least 7 days (not extrapolated)');
    // Relative times, counted from the command's clock (the system time: after the demo's data, so nothing fires).
    const rel = runCli(['backtest', '--from', '-12h', '--to', 'now', '--step', '6h', '--format', 'json'], cwd);
    expect(rel.code, rel.stderr).toBe(0);
    const json = JSON.parse(rel.stdout) as { from: string; to: string; span_days: number };
    expect(json.span_days).toBe(0.5);
    expect(Date.parse(json.to) - Date.parse(json.from)).toBe(12 * 3_600_000);
  });

  it('check: exit 0 and one summary line for good rules, exit 1 and file:line:col for bad ones', () => {
    const ok = runCli(['check', 'rules'], cwd);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toMatch(/^SUCCESS: 1 file, 2 groups, 13 rules$/);
    writeFileSync(join(cwd, 'bad.yaml'), 'groups:\n  - name: g\n    interval: 5 minutes\n    rules:\n      - alert: A\n        signal: tool_calls\n        threshold: 20%\n');
    const bad = runCli(['check', 'bad.yaml'], cwd);
    expect(bad.code).toBe(1);
    const lines = bad.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^bad\.yaml:3:15: /);
    expect(lines[1]).toMatch(/^bad\.yaml:6:17: .*signal/);
  });

  it('a bad config is a usage error naming file:line:col', () => {
    writeFileSync(join(cwd, 'bad-config.yaml'), 'clickhouse:\n  target: chdb:./data\n  pasword: x\n');
    const r = runCli(['status', '--config', 'bad-config.yaml'], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-config\.yaml:3:3: .*pasword/);
  });

  it('an unknown target is a usage error', () => {
    const r = runCli(['status', '--clickhouse', 'mysql://x'], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown ClickHouse target/);
  });

  it('an unreachable server is a clear error, not a stack trace', () => {
    const r = runCli(['status', '--clickhouse', 'http://127.0.0.1:1/default'], cwd, { AGENTDRIFT_CLICKHOUSE_PASSWORD: 's3cr3t-pw' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^agentdrift: ClickHouse at http:\/\/127\.0\.0\.1:1\/default is unreachable/);
    expect(r.stderr).not.toContain('s3cr3t-pw');
  });

  it('start refuses invalid rules with the same file:line:col messages as check', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-badrules-'));
    writeFileSync(join(dir, 'r.yaml'), 'groups:\n  - name: g\n    interval: 5m\n    rules:\n      - alert: A\n        signal: tool_calls\n        threshold: 20%\n');
    writeFileSync(join(cwd, 'badrules.yaml'), `rules: [${JSON.stringify(dir)}]\nlisten: 127.0.0.1:0\n`);
    const check = runCli(['check', dir], cwd);
    const start = runCli(['start', '--config', 'badrules.yaml'], cwd);
    expect(start.code).toBe(1);
    expect(check.stderr.trim().length).toBeGreaterThan(0);
    for (const line of check.stderr.trim().split('\n')) expect(start.stderr).toContain(line);
    expect(start.stderr).toMatch(/^agentdrift: invalid rules, not starting:$/m);
    expect(start.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });
});
