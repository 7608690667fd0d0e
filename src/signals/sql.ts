/**
 * SQL pieces shared by the four signals. Identifiers come only from the contract (checked again
 * here, whatever the rule loader did); every value, pattern and time is a bound parameter.
 */
import type { Rule, WhereValue } from '../rules/types.js';
import { dimensionLabel, dimensionSelect, dimensionSql, isDimension, type Dimension } from '../store/contract.js';
import type { WindowBounds } from './types.js';

export interface BuiltQuery {
  readonly sql: string;
  readonly params: Record<string, unknown>;
}

/** `invoice_*` -> LIKE pattern with %, _ and \ in the literal part escaped. */
export function globToLike(glob: string): string {
  return glob.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
}

/** The WHERE conditions of a rule: its `where` filters and the overall time range of all windows. */
export function filterClause(rule: Pick<Rule, 'where'>, windows: readonly WindowBounds[], params: Record<string, unknown>): string {
  const lo = Math.min(...windows.map((w) => w.startMs));
  const hi = Math.max(...windows.map((w) => w.endMs));
  params.lo = lo;
  params.hi = hi;
  const conds = ['timestamp >= fromUnixTimestamp64Milli({lo:Int64})', 'timestamp < fromUnixTimestamp64Milli({hi:Int64})', ...whereConditions(rule, params)];
  return conds.join('\n  AND ');
}

/**
 * A rule's `where` as SQL conditions on contract columns, values bound as `w0`, `w1`, ... in `params`:
 * over agent_runs rows (`runs`, an attribute read from the map) or over aggregate rows (its column).
 */
export function whereConditions(rule: Pick<Rule, 'where'>, params: Record<string, unknown>, over: 'runs' | 'aggregates' = 'runs'): string[] {
  const conds: string[] = [];
  let i = 0;
  for (const [col, value] of Object.entries(rule.where) as [string, WhereValue][]) {
    if (!isDimension(col)) throw new Error(`where column ${JSON.stringify(col)} is not in the contract`);
    const ident = dimensionSql(col, over);
    const values = typeof value === 'string' ? [value] : value;
    const alternatives = values.map((v) => {
      const name = `w${i++}`;
      if (v.includes('*')) {
        params[name] = globToLike(v);
        return `${ident} LIKE {${name}:String}`;
      }
      params[name] = v;
      return `${ident} = {${name}:String}`;
    });
    conds.push(alternatives.length === 1 ? alternatives[0]! : `(${alternatives.join(' OR ')})`);
  }
  return conds;
}

/**
 * The window index of a row (0 = current, 1.. = baseline). arrayJoin lets a row count in several
 * windows when seasonal windows overlap; rows in no window are dropped.
 */
export function windowIndexExpr(windows: readonly WindowBounds[], params: Record<string, unknown>): string {
  params.starts = windows.map((w) => w.startMs);
  params.ends = windows.map((w) => w.endMs);
  return `arrayJoin(arrayFilter(i -> ts_ms >= {starts:Array(Int64)}[i] AND ts_ms < {ends:Array(Int64)}[i], arrayEnumerate({starts:Array(Int64)}))) - 1`;
}

/** The rule's group columns by name (their labels): over aggregate rows, and over rows selected with groupSelects. */
export function groupColumns(rule: Pick<Rule, 'groupBy'>): string[] {
  return checkedGroups(rule).map((c) => dimensionSql(c, 'aggregates'));
}

/** The rule's group columns selected from agent_runs under their labels (attributes from the map). */
export function groupSelects(rule: Pick<Rule, 'groupBy'>): string[] {
  return checkedGroups(rule).map(dimensionSelect);
}

function checkedGroups(rule: Pick<Rule, 'groupBy'>): readonly Dimension[] {
  for (const c of rule.groupBy) if (!isDimension(c)) throw new Error(`group_by column ${JSON.stringify(c)} is not in the contract`);
  return rule.groupBy;
}

/** `SELECT <groups>, <window index>, ... FROM (<runs of the rule>)`: the inner part every signal shares. */
export function runsSubquery(rule: Rule, table: string, windows: readonly WindowBounds[], params: Record<string, unknown>, extraColumns: string[]): string {
  const cols = [...groupColumns(rule), 'run_id', ...extraColumns];
  return `SELECT ${cols.join(', ')}, ${windowIndexExpr(windows, params)} AS w
  FROM (SELECT *, ${[...groupSelects(rule).filter((g) => g.includes(' AS ')), 'toUnixTimestamp64Milli(timestamp) AS ts_ms'].join(', ')} FROM ${table}
        WHERE ${filterClause(rule, windows, params)})`;
}

/** Turn a ClickHouse row's group columns into labels (named by dimensionLabel). */
export function groupLabels(rule: Pick<Rule, 'groupBy'>, row: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of rule.groupBy) {
    const label = dimensionLabel(c);
    out[label] = String(row[label] ?? '');
  }
  return out;
}

/** The group a row (or a measurement's labels) belongs to: its group_by values. */
export function groupKeyOf(rule: Pick<Rule, 'groupBy'>, row: Readonly<Record<string, unknown>>): string {
  // Length-prefixed, so no value can run into the next (a separator could occur inside a value).
  let key = '';
  for (const c of rule.groupBy) {
    const v = String(row[dimensionLabel(c)] ?? '');
    key += `${v.length}:${v}`;
  }
  return key;
}

/**
 * Per-group accumulators keyed by the rule's group labels: the rows of a signal's queries come one per
 * (group, window[, key]) and are folded into one record per group.
 */
export class GroupTable<T extends { readonly labels: Record<string, string> }> {
  private readonly byKey = new Map<string, T>();

  constructor(
    private readonly rule: Pick<Rule, 'groupBy'>,
    private readonly make: (labels: Record<string, string>) => T,
  ) {}

  /** The group a result row belongs to, created on first sight. */
  of(row: Record<string, unknown>): T {
    const key = groupKeyOf(this.rule, row);
    let g = this.byKey.get(key);
    if (!g) this.byKey.set(key, (g = this.make(groupLabels(this.rule, row))));
    return g;
  }

  values(): IterableIterator<T> {
    return this.byKey.values();
  }
}

/** Numbers arrive as strings for 64-bit types over HTTP; as numbers from chDB. */
export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}
