/**
 * The shipped dashboards and Grafana provisioning, checked without any server: they reference only
 * metrics and labels agentdrift exports, draw the default rules' thresholds, set units, lay out
 * without overlaps, and select their datasources through variables whose defaults are the
 * provisioned datasources.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SERIES_LABEL_NAMES } from '../../src/metrics/labels.js';
import { DriftMetrics } from '../../src/metrics/registry.js';
import { loadRuleFiles } from '../../src/rules/load.js';
import { SIGNALS, type Rule } from '../../src/rules/types.js';
import {
  CLICKHOUSE_TYPE,
  PROMETHEUS_TYPE,
  allPanels,
  labelNames,
  loadDashboards,
  metricNames,
  panelQueries,
  variableQuery,
  type GrafanaPanel,
} from '../helpers/grafana.js';

const ROOT = resolve(__dirname, '../..');
const dashboards = loadDashboards();
const byUid = new Map(dashboards.map((d) => [d.uid, d]));

interface ProvisionedDatasource {
  name: string;
  uid: string;
  type: string;
  url?: string;
  jsonData?: Record<string, unknown>;
  secureJsonData?: Record<string, unknown>;
}
const datasources = (parse(readFileSync(resolve(ROOT, 'grafana/provisioning/datasources/datasources.yaml'), 'utf8')) as { datasources: ProvisionedDatasource[] }).datasources;
const provider = (parse(readFileSync(resolve(ROOT, 'grafana/provisioning/dashboards/dashboards.yaml'), 'utf8')) as {
  providers: { type: string; options: { path: string } }[];
}).providers;

let exported: Set<string>;
let rulesBySignal: Map<string, Rule>;

beforeAll(async () => {
  const m = new DriftMetrics({ defaultMetrics: false });
  exported = new Set<string>();
  for (const f of await m.registry.getMetricsAsJSON()) {
    exported.add(f.name);
    if (String(f.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(f.name + s);
  }
  const { ruleSet, problems } = await loadRuleFiles([resolve(ROOT, 'rules')]);
  expect(problems).toEqual([]);
  // The dashboards draw the 7-day rules' thresholds (the fast 1-day rules have their own). An output
  // shape's share (measure: share, series with a key) has its own panel beside the distance's.
  const long = ruleSet!.groups.flatMap((g) => g.rules).filter((r) => r.windowMs >= 7 * 86_400_000);
  rulesBySignal = new Map(long.filter((r) => r.options.measure !== 'share').map((r) => [r.signal, r]));
  for (const r of long) if (r.options.measure === 'share') rulesBySignal.set(`${r.signal}/share`, r);
});

describe('dashboard models', () => {
  it('have stable uids, the agentdrift tag and a current schema version', () => {
    expect([...byUid.keys()].sort()).toEqual(['agentdrift-fleet', 'agentdrift-workflow']);
    for (const d of dashboards) {
      expect(d.schemaVersion, d.uid).toBeGreaterThanOrEqual(36);
      expect(d.tags, d.uid).toContain('agentdrift');
      expect(d.title, d.uid).toMatch(/^agentdrift/);
    }
  });

  it('have a Prometheus and a ClickHouse datasource variable, workflow_id and rule', () => {
    for (const d of dashboards) {
      const vars = new Map(d.templating.list.map((v) => [v.name, v]));
      expect(vars.get('datasource'), d.uid).toMatchObject({ type: 'datasource', query: PROMETHEUS_TYPE });
      expect(vars.get('clickhouse'), d.uid).toMatchObject({ type: 'datasource', query: CLICKHOUSE_TYPE });
      for (const name of ['workflow_id', 'rule']) {
        const v = vars.get(name)!;
        expect(v, `${d.uid} ${name}`).toMatchObject({ type: 'query', datasource: { type: PROMETHEUS_TYPE, uid: '${datasource}' } });
        expect(variableQuery(v), `${d.uid} ${name}`).toMatch(new RegExp(`^label_values\\(.*, ${name}\\)$`));
      }
    }
  });

  it('default to the provisioned datasources', () => {
    const uidOf = (type: string) => datasources.find((x) => x.type === type)!.uid;
    for (const d of dashboards) {
      const vars = new Map(d.templating.list.map((v) => [v.name, v]));
      expect(vars.get('datasource')!.current?.value, d.uid).toBe(uidOf(PROMETHEUS_TYPE));
      expect(vars.get('clickhouse')!.current?.value, d.uid).toBe(uidOf(CLICKHOUSE_TYPE));
    }
  });

  it('give every panel and query a datasource through those variables', () => {
    const expected: Record<string, string> = { [PROMETHEUS_TYPE]: '${datasource}', [CLICKHOUSE_TYPE]: '${clickhouse}' };
    for (const d of dashboards) {
      for (const p of allPanels(d).filter((x) => x.type !== 'row')) {
        const where = `${d.uid} / ${p.title}`;
        expect(p.datasource?.uid, where).toBe(expected[p.datasource?.type ?? '']);
        expect(p.targets?.length ?? 0, where).toBeGreaterThan(0);
        for (const t of p.targets ?? []) expect(t.datasource, where).toEqual(p.datasource);
      }
      // Variables of ClickHouse queries hold values written into SQL: only as quoted SQL strings.
      for (const q of panelQueries(d).filter((x) => x.kind === 'clickhouse')) {
        for (const m of q.text.matchAll(/\$\{?(\w+)(?::(\w+))?/g)) {
          if (m[1]!.startsWith('__')) continue;
          expect(m[0], q.where).toMatch(/^\$\{\w+:sqlstring$/);
        }
      }
    }
  });

  it('lay panels out on the 24-column grid without overlaps', () => {
    for (const d of dashboards) {
      const ids = allPanels(d).map((p) => p.id);
      expect(new Set(ids).size, d.uid).toBe(ids.length);
      const placed = d.panels;
      for (const p of placed) {
        expect(p.gridPos.x + p.gridPos.w, `${d.uid} / ${p.title}`).toBeLessThanOrEqual(24);
      }
      const overlap = (a: GrafanaPanel, b: GrafanaPanel) =>
        a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w && a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h;
      for (let i = 0; i < placed.length; i++) {
        for (let j = i + 1; j < placed.length; j++) expect(overlap(placed[i]!, placed[j]!), `${d.uid}: ${placed[i]!.title} / ${placed[j]!.title}`).toBe(false);
      }
    }
  });

  it('link only to shipped dashboards', () => {
    for (const d of dashboards) {
      for (const m of JSON.stringify(d).matchAll(/\/d\/([\w-]+)\//g)) expect(byUid.has(m[1]!), `${d.uid} links to ${m[1]}`).toBe(true);
    }
  });
});

describe('panel queries', () => {
  const promQueries = dashboards.flatMap(panelQueries).filter((q) => q.kind === 'prometheus');

  it('read only metrics agentdrift exports', () => {
    const unknown = promQueries.flatMap((q) => metricNames(q.text).filter((n) => !exported.has(n)).map((n) => `${q.where}: ${n}`));
    expect(unknown).toEqual([]);
    // And every family a user looks at daily appears somewhere.
    const used = new Set(promQueries.flatMap((q) => metricNames(q.text)));
    for (const n of [
      'agentdrift_signal_current_value',
      'agentdrift_signal_baseline_value',
      'agentdrift_signal_deviation_ratio',
      'agentdrift_signal_runs',
      'agentdrift_signal_p_value',
      'agentdrift_alert_state',
      'agentdrift_group_evaluation_duration_seconds_bucket',
      'agentdrift_group_evaluation_failures_total',
      'agentdrift_group_last_success_timestamp_seconds',
      'agentdrift_notifications_total',
      'agentdrift_notifications_failed_total',
      'agentdrift_clickhouse_up',
    ]) {
      expect(used, n).toContain(n);
    }
  });

  it('use only labels those metrics carry', () => {
    const known = new Set<string>([...SERIES_LABEL_NAMES, 'alertstate', 'window', 'group', 'le', 'result', 'receiver', 'integration', 'reason', 'kind']);
    const unknown = promQueries.flatMap((q) => labelNames(q.text).filter((l) => !known.has(l)).map((l) => `${q.where}: ${l}`));
    expect(unknown).toEqual([]);
  });

  it('match multi-value variables with =~ only', () => {
    let checked = 0;
    for (const d of dashboards) {
      const multi = d.templating.list.filter((v) => v.multi || v.includeAll).map((v) => v.name);
      for (const q of panelQueries(d).filter((x) => x.kind === 'prometheus')) {
        for (const name of multi) {
          for (const m of q.text.matchAll(new RegExp(`(\\w+)\\s*(=~|!~|!=|=)\\s*"[^"]*\\$\\{?${name}\\b`, 'g'))) {
            expect(m[2], `${q.where}: ${m[0]}`).toMatch(/^(=~|!~)$/);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});

describe('units and thresholds', () => {
  const panels = dashboards.flatMap((d) => allPanels(d).filter((p) => p.type !== 'row').map((p) => ({ d, p })));
  const exprs = (p: GrafanaPanel) => (p.targets ?? []).map((t) => t.expr ?? t.rawSql ?? '');
  const unit = (p: GrafanaPanel) => p.fieldConfig?.defaults?.unit;

  it('every panel sets a unit', () => {
    for (const { d, p } of panels) expect(unit(p), `${d.uid} / ${p.title}`).toMatch(/\S/);
  });

  it('values carry the unit of their signal: USD, percent, calls per run', () => {
    const expected: Record<string, string> = {
      cost_per_success: 'currencyUSD',
      policy_activation_rate: 'percentunit',
      tool_calls_per_run: 'suffix: calls/run',
      duration: 'ms',
      error_rate: 'percentunit',
      tool_error_rate: 'percentunit',
      tokens_per_run: 'suffix: tokens/run',
      runs: 'short',
      cost: 'currencyUSD',
    };
    let checked = 0;
    for (const { d, p } of panels) {
      for (const e of exprs(p)) {
        const m = /agentdrift_signal_(?:current|baseline)_value\{signal="(\w+)"/.exec(e);
        if (!m || !expected[m[1]!]) continue;
        expect(unit(p), `${d.uid} / ${p.title}`).toBe(expected[m[1]!]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(18);
    const sqlUnits = panels.filter(({ p }) => p.datasource?.type === CLICKHOUSE_TYPE).map(({ p }) => [p.title, unit(p)]);
    expect(sqlUnits).toEqual(
      expect.arrayContaining([
        [expect.stringMatching(/token vs tool/), 'currencyUSD'],
        [expect.stringMatching(/fingerprint shares/), 'percentunit'],
        [expect.stringMatching(/Tool calls per run by tool, per time bucket/), 'suffix: calls/run'],
        [expect.stringMatching(/^Run duration p50, p95 and p99/), 'ms'],
        [expect.stringMatching(/^Tool error rate by tool, per time bucket/), 'percentunit'],
        [expect.stringMatching(/^Spend per time bucket/), 'currencyUSD'],
      ]),
    );
  });

  it("deviation panels draw their rule's threshold from rules/default.yaml", () => {
    let checked = 0;
    for (const { d, p } of panels) {
      const signals = new Set(exprs(p).map((e) => /^agentdrift_signal_deviation_ratio\{signal="(\w+)"/.exec(e)?.[1]));
      if (signals.size !== 1 || signals.has(undefined)) continue;
      const signal = [...signals][0]!;
      const rule = rulesBySignal.get(exprs(p).some((e) => e.includes('key!=""')) ? `${signal}/share` : signal);
      expect(rule, `${d.uid} / ${p.title}: no default rule for ${signal}`).toBeDefined();
      const t = rule!.threshold;
      const want = rule!.direction === 'both' ? [-t, t] : rule!.direction === 'down' ? [-t] : [t];
      const steps = (p.fieldConfig?.defaults?.thresholds?.steps ?? []).map((s) => s.value).filter((v): v is number => v !== null);
      expect(steps, `${d.uid} / ${p.title}`).toEqual(want);
      expect(p.fieldConfig?.defaults?.custom?.thresholdsStyle?.mode, `${d.uid} / ${p.title}`).not.toBe('off');
      checked++;
    }
    // Four signals, error rate, duration and the shapes' shares on the fleet overview, the same on the drill-down.
    expect(checked).toBe(14);
  });
});

describe('signal coverage', () => {
  it('every signal has a panel of its values on the drill-down, with the attributes label where series may carry it', () => {
    const wf = byUid.get('agentdrift-workflow')!;
    const queries = panelQueries(wf).filter((q) => q.kind === 'prometheus');
    const missing: string[] = [];
    for (const signal of SIGNALS) {
      const panels = queries.filter((q) => q.text.includes(`signal="${signal}"`) && /agentdrift_signal_(current|baseline)_value/.test(q.text));
      if (panels.length === 0) missing.push(signal);
    }
    // Output shapes are read as distances and shares (deviation panels), not values.
    expect(missing).toEqual(['output_schema_shift']);
    const newSignals: readonly string[] = ['tool_error_rate', 'tokens_per_run', 'score', 'runs', 'cost', 'metric'];
    for (const q of queries.filter((x) => newSignals.some((s) => x.text.includes(`signal="${s}"`)))) {
      expect(q.target as { legendFormat?: string }, q.where).toMatchObject({ legendFormat: expect.stringContaining('{{attributes}}') });
    }
  });
});

describe('provisioning', () => {
  it('provisions Prometheus and the ClickHouse plugin with the password from the environment', () => {
    const promDs = datasources.find((x) => x.uid === 'prometheus')!;
    expect(promDs).toMatchObject({ type: PROMETHEUS_TYPE, url: 'http://prometheus:9090' });
    const ch = datasources.find((x) => x.uid === 'clickhouse')!;
    expect(ch.type).toBe(CLICKHOUSE_TYPE);
    expect(ch.jsonData).toMatchObject({ host: 'clickhouse', port: 9000, protocol: 'native' });
    expect(String(ch.jsonData!.defaultDatabase)).toMatch(/^\$\{?CLICKHOUSE_DB\}?$/);
    expect(String(ch.jsonData!.username)).toMatch(/^\$\{?CLICKHOUSE_USER\}?$/);
    expect(String(ch.secureJsonData!.password)).toMatch(/^\$\{?CLICKHOUSE_PASSWORD\}?$/);
  });

  it('loads the dashboards from one file provider', () => {
    expect(provider).toHaveLength(1);
    expect(provider[0]).toMatchObject({ type: 'file', options: { path: '/var/lib/grafana/dashboards' } });
  });
});
