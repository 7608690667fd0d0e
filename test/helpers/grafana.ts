/**
 * Reads the shipped Grafana dashboards and turns their panel queries into what Grafana would send:
 * template variables interpolated the way Grafana formats them, and, for ClickHouse, the macros
 * expanded the way grafana-clickhouse-datasource does (pkg/macros/macros.go of the plugin), so the
 * tests run the very text a user's Grafana would run.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const DASHBOARD_DIR = resolve(__dirname, '../../grafana/dashboards');
export const DASHBOARD_FILES = ['agentdrift-fleet.json', 'agentdrift-workflow.json'] as const;

export const PROMETHEUS_TYPE = 'prometheus';
export const CLICKHOUSE_TYPE = 'grafana-clickhouse-datasource';

export interface DatasourceRef {
  readonly type?: string;
  readonly uid?: string;
}

export interface GrafanaTarget {
  readonly refId?: string;
  readonly datasource?: DatasourceRef;
  readonly expr?: string;
  readonly rawSql?: string;
  readonly format?: string | number;
  readonly instant?: boolean;
  readonly hide?: boolean;
}

export interface ThresholdStep {
  readonly color: string;
  readonly value: number | null;
}

export interface GrafanaPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly datasource?: DatasourceRef;
  readonly targets?: readonly GrafanaTarget[];
  readonly panels?: readonly GrafanaPanel[];
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly interval?: string;
  readonly fieldConfig?: {
    readonly defaults?: {
      readonly unit?: string;
      readonly thresholds?: { readonly mode?: string; readonly steps?: readonly ThresholdStep[] };
      readonly custom?: { readonly thresholdsStyle?: { readonly mode?: string } };
    };
    readonly overrides?: readonly unknown[];
  };
}

export interface TemplateVariable {
  readonly name: string;
  readonly type: string;
  readonly query?: string | { readonly query?: string };
  readonly definition?: string;
  readonly datasource?: DatasourceRef;
  readonly current?: { readonly value?: string | readonly string[] };
  readonly multi?: boolean;
  readonly includeAll?: boolean;
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly GrafanaPanel[];
  readonly templating: { readonly list: readonly TemplateVariable[] };
  readonly time: { readonly from: string; readonly to: string };
  readonly tags?: readonly string[];
}

export function loadDashboard(file: string): Dashboard {
  return JSON.parse(readFileSync(resolve(DASHBOARD_DIR, file), 'utf8')) as Dashboard;
}

export function loadDashboards(): Dashboard[] {
  return DASHBOARD_FILES.map(loadDashboard);
}

/** Every panel, rows' nested panels included (a collapsed row keeps its panels inside it). */
export function allPanels(d: Dashboard): GrafanaPanel[] {
  const out: GrafanaPanel[] = [];
  const visit = (ps: readonly GrafanaPanel[]) => {
    for (const p of ps) {
      out.push(p);
      if (p.panels) visit(p.panels);
    }
  };
  visit(d.panels);
  return out;
}

export interface PanelQuery {
  readonly dashboard: Dashboard;
  readonly panel: GrafanaPanel;
  readonly target: GrafanaTarget;
  readonly kind: 'prometheus' | 'clickhouse';
  /** The query as written in the dashboard, before interpolation. */
  readonly text: string;
  /** dashboard uid / panel title / refId, for failure messages. */
  readonly where: string;
}

/** Every query of every panel; a target without its own datasource inherits the panel's. */
export function panelQueries(d: Dashboard): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const panel of allPanels(d)) {
    for (const target of panel.targets ?? []) {
      const type = target.datasource?.type ?? panel.datasource?.type;
      const where = `${d.uid} / "${panel.title}" / ${target.refId ?? '?'}`;
      if (type === PROMETHEUS_TYPE) {
        if (typeof target.expr !== 'string') throw new Error(`${where}: Prometheus target without expr`);
        out.push({ dashboard: d, panel, target, kind: 'prometheus', text: target.expr, where });
      } else if (type === CLICKHOUSE_TYPE) {
        if (typeof target.rawSql !== 'string') throw new Error(`${where}: ClickHouse target without rawSql`);
        out.push({ dashboard: d, panel, target, kind: 'clickhouse', text: target.rawSql, where });
      } else {
        throw new Error(`${where}: unexpected datasource type ${String(type)}`);
      }
    }
  }
  return out;
}

export function variableQuery(v: TemplateVariable): string {
  if (typeof v.query === 'string') return v.query;
  if (v.query && typeof v.query.query === 'string') return v.query.query;
  if (v.definition) return v.definition;
  throw new Error(`variable ${v.name} has no query`);
}

// ---- ClickHouse macros -----------------------------------------------------------------------------

export interface TimeRange {
  readonly fromMs: number;
  readonly toMs: number;
  /** Grafana's $__interval for the panel, in ms. */
  readonly intervalMs: number;
}

const unix = (ms: number) => Math.floor(ms / 1000);
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dateTime = (ms: number) => `toDateTime(${unix(ms)})`;
const dateTime64 = (ms: number) => `fromUnixTimestamp64Milli(${Math.floor(ms)})`;
const date = (ms: number) => `toDate('${isoDate(ms)}')`;

type Macro = (args: string[], r: TimeRange) => string;

function arity(name: string, n: number, args: string[]): void {
  if (args.length !== n) throw new Error(`$__${name}: expected ${n} argument(s), got ${args.length}`);
}

/** The plugin's macros, output for output (grafana/clickhouse-datasource pkg/macros/macros.go). */
const MACROS: Readonly<Record<string, Macro>> = {
  fromTime: (_a, r) => dateTime(r.fromMs),
  toTime: (_a, r) => dateTime(r.toMs),
  fromTime_ms: (_a, r) => dateTime64(r.fromMs),
  toTime_ms: (_a, r) => dateTime64(r.toMs),
  timeFilter: (a, r) => (arity('timeFilter', 1, a), `${a[0]} >= ${dateTime(r.fromMs)} AND ${a[0]} <= ${dateTime(r.toMs)}`),
  timeFilter_ms: (a, r) => (arity('timeFilter_ms', 1, a), `${a[0]} >= ${dateTime64(r.fromMs)} AND ${a[0]} <= ${dateTime64(r.toMs)}`),
  dateFilter: (a, r) => (arity('dateFilter', 1, a), `${a[0]} >= ${date(r.fromMs)} AND ${a[0]} <= ${date(r.toMs)}`),
  dateTimeFilter: (a, r) => dateTimeFilter(a, r),
  dt: (a, r) => dateTimeFilter(a, r),
  timeInterval: (a, r) => (arity('timeInterval', 1, a), `toStartOfInterval(toDateTime(${a[0]}), INTERVAL ${Math.trunc(Math.max(r.intervalMs / 1000, 1))} second)`),
  timeInterval_ms: (a, r) => (arity('timeInterval_ms', 1, a), `toStartOfInterval(toDateTime64(${a[0]}, 3), INTERVAL ${Math.trunc(Math.max(r.intervalMs, 1))} millisecond)`),
  interval_s: (_a, r) => String(Math.trunc(Math.max(r.intervalMs / 1000, 1))),
};

function dateTimeFilter(a: string[], r: TimeRange): string {
  arity('dateTimeFilter', 2, a);
  const [d, t] = a as [string, string];
  return `(${d} >= ${date(r.fromMs)} AND ${d} <= ${date(r.toMs)}) AND (${t} >= ${dateTime(r.fromMs)} AND ${t} <= ${dateTime(r.toMs)})`;
}

/** Splits a macro's argument list on top-level commas, as sqlds does. */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '' || out.length > 0) out.push(cur.trim());
  return out;
}

/** Expands $__macro and $__macro(args); an unknown macro is an error, as it would be in Grafana. */
export function expandClickHouseMacros(sql: string, range: TimeRange): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const at = sql.indexOf('$__', i);
    if (at < 0) {
      out += sql.slice(i);
      break;
    }
    out += sql.slice(i, at);
    const m = /^\$__(\w+)/.exec(sql.slice(at));
    if (!m) throw new Error(`bad macro at ${at}: ${sql.slice(at, at + 20)}`);
    const name = m[1]!;
    const macro = MACROS[name];
    if (!macro) throw new Error(`unknown ClickHouse macro $__${name}`);
    let end = at + m[0].length;
    let args: string[] = [];
    if (sql[end] === '(') {
      let depth = 0;
      let j = end;
      for (; j < sql.length; j++) {
        if (sql[j] === '(') depth++;
        else if (sql[j] === ')' && --depth === 0) break;
      }
      if (j >= sql.length) throw new Error(`unclosed argument list of $__${name}`);
      args = splitArgs(sql.slice(end + 1, j));
      end = j + 1;
    }
    out += macro(args, range);
    i = end;
  }
  return out;
}

/** A panel's minimum interval ("1h", "15s"), which Grafana uses when it is above the automatic one. */
export function parseGrafanaInterval(s: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s.trim());
  if (!m) throw new Error(`bad interval ${s}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

// ---- template variables ----------------------------------------------------------------------------

export interface VariableSources {
  /** label_values(selector, label) against Prometheus. */
  readonly prometheusLabelValues?: (selector: string | undefined, label: string) => Promise<string[]>;
  /** A ClickHouse variable query, already interpolated and macro-expanded: the first column of its rows. */
  readonly clickhouseValues?: (sql: string) => Promise<string[]>;
  /** Time range for macros inside ClickHouse variable queries. */
  readonly range?: TimeRange;
}

interface Resolved {
  readonly variable: TemplateVariable;
  readonly values: readonly string[];
}

// Grafana's variable syntax: $name, [[name:format]], ${name:format} (public/app/features/variables/utils.ts).
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g;

function regexEscape(v: string): string {
  return v.replace(/[\\^$*+?.()|{}[\]]/g, '\\$&');
}

/** Grafana's Prometheus datasource: interpolateQueryExpr (regular escape unless multi or All). */
function prometheusDefault(v: TemplateVariable, values: readonly string[]): string {
  if (!v.multi && !v.includeAll) return (values[0] ?? '').replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");
  const escaped = values.map((x) => x.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&'));
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
}

function format(name: string, fmt: string, values: readonly string[]): string {
  switch (fmt) {
    case 'sqlstring':
      return values.map((x) => `'${x.replace(/'/g, "''")}'`).join(',');
    case 'singlequote':
      return values.map((x) => `'${x.replace(/'/g, "\\'")}'`).join(',');
    case 'doublequote':
      return values.map((x) => `"${x.replace(/"/g, '\\"')}"`).join(',');
    case 'csv':
    case 'raw':
      return values.join(',');
    case 'pipe':
      return values.join('|');
    case 'regex':
      return values.length === 1 ? regexEscape(values[0]!) : `(${values.map(regexEscape).join('|')})`;
    default:
      throw new Error(`variable ${name}: format ${fmt} is not supported by this test helper`);
  }
}

/**
 * Resolves a dashboard's template variables on demand, the way Grafana would on load: query
 * variables are run against the given sources; the selection is the override if one is given,
 * else the dashboard's saved current value (All meaning every value), else the first value.
 */
export class VariableResolver {
  private readonly byName: Map<string, TemplateVariable>;
  private readonly cache = new Map<string, Promise<Resolved>>();

  constructor(
    readonly dashboard: Dashboard,
    private readonly sources: VariableSources,
    private readonly overrides: Readonly<Record<string, readonly string[]>> = {},
  ) {
    this.byName = new Map(dashboard.templating.list.map((v) => [v.name, v]));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  resolve(name: string): Promise<Resolved> {
    let p = this.cache.get(name);
    if (!p) {
      p = this.compute(name);
      this.cache.set(name, p);
    }
    return p;
  }

  private async compute(name: string): Promise<Resolved> {
    const v = this.byName.get(name);
    if (!v) throw new Error(`${this.dashboard.uid}: undefined template variable $${name}`);
    if (v.type === 'datasource') {
      const cur = v.current?.value;
      return { variable: v, values: [typeof cur === 'string' ? cur : String(cur?.[0] ?? '')] };
    }
    if (v.type !== 'query') throw new Error(`variable ${name}: type ${v.type} is not supported by this test helper`);
    const options = await this.options(v);
    if (options.length === 0) throw new Error(`variable ${name}: its query returned no values`);
    const override = this.overrides[name];
    if (override) {
      const missing = override.filter((o) => !options.includes(o));
      if (missing.length > 0) throw new Error(`variable ${name}: ${missing.join(', ')} not among its values ${options.join(', ')}`);
      return { variable: v, values: override };
    }
    const cur = v.current?.value;
    const saved = cur === undefined ? [] : typeof cur === 'string' ? [cur] : [...cur];
    if (saved.includes('$__all')) return { variable: v, values: options };
    const kept = saved.filter((s) => options.includes(s));
    return { variable: v, values: kept.length > 0 ? kept : [options[0]!] };
  }

  private async options(v: TemplateVariable): Promise<string[]> {
    const q = variableQuery(v);
    const type = v.datasource?.type;
    if (type === PROMETHEUS_TYPE) {
      const m = /^\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*$/.exec(q);
      if (!m) throw new Error(`variable ${v.name}: only label_values() queries are supported, got ${q}`);
      if (!this.sources.prometheusLabelValues) throw new Error(`variable ${v.name} needs Prometheus`);
      const selector = m[1] === undefined ? undefined : await this.interpolate(m[1], 'prometheus');
      return this.sources.prometheusLabelValues(selector, m[2]!);
    }
    if (type === CLICKHOUSE_TYPE) {
      if (!this.sources.clickhouseValues || !this.sources.range) throw new Error(`variable ${v.name} needs ClickHouse and a time range`);
      const sql = expandClickHouseMacros(await this.interpolate(q, 'clickhouse'), this.sources.range);
      return this.sources.clickhouseValues(sql);
    }
    throw new Error(`variable ${v.name}: datasource type ${String(type)} is not supported`);
  }

  /**
   * Replaces template variables in a query. `builtins` answers Grafana's global variables
   * ($__rate_interval, $__range, ...); other $__ names are left for the ClickHouse macros.
   * ClickHouse queries must name an SQL format (${var:sqlstring}): without one the plugin writes a
   * single value unquoted and quotes several without escaping their quotes.
   */
  async interpolate(text: string, kind: 'prometheus' | 'clickhouse', builtins: Readonly<Record<string, string>> = {}): Promise<string> {
    const names = new Set<string>();
    for (const m of text.matchAll(VARIABLE)) {
      const name = m[1] ?? m[2] ?? m[4]!;
      if (!name.startsWith('__')) names.add(name);
    }
    const resolved = new Map<string, Resolved>();
    for (const n of names) resolved.set(n, await this.resolve(n));
    return text.replace(VARIABLE, (whole: string, plain?: string, bracket?: string, bracketFmt?: string, braced?: string, bracedFmt?: string) => {
      const name = plain ?? bracket ?? braced!;
      const fmt = bracketFmt ?? bracedFmt;
      if (name.startsWith('__')) {
        const b = builtins[name];
        if (b !== undefined) return b;
        if (kind === 'clickhouse') return whole;
        throw new Error(`no value for Grafana's global variable $${name}`);
      }
      const r = resolved.get(name)!;
      if (fmt !== undefined) return format(name, fmt, r.values);
      if (kind === 'clickhouse') throw new Error(`$${name} in ClickHouse SQL needs an SQL format such as \${${name}:sqlstring}`);
      return prometheusDefault(r.variable, r.values);
    });
  }
}

/** Metric names (agentdrift_*) a PromQL expression reads; histogram series map to their family. */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\b(agentdrift_[a-z0-9_]+)/g)) names.add(m[1]!);
  return [...names];
}

/** Label names used in matchers and in by/on/without/ignoring clauses. */
export function labelNames(expr: string): string[] {
  const names = new Set<string>();
  for (const sel of expr.matchAll(/\{([^}]*)\}/g)) {
    for (const m of sel[1]!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)\s*"/g)) names.add(m[1]!);
  }
  for (const m of expr.matchAll(/\b(?:by|on|without|ignoring)\s*\(([^)]*)\)/g)) {
    for (const l of m[1]!.split(',')) if (l.trim() !== '') names.add(l.trim());
  }
  return [...names];
}
