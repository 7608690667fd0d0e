/**
 * Rule files -> rule groups. Pure: it gets parsed YAML and reports every problem with its position;
 * reading files is load.ts's job. Identifiers (columns) are checked against the data contract here,
 * so nothing a rule says reaches SQL as text.
 */
import { validate as cronValidate, validateDetailed as cronDetails } from 'node-cron';
import { DIMENSION_COLUMNS, dimensionLabel, isDimension, type Dimension } from '../store/contract.js';
import {
  bool,
  Checker,
  describe,
  duration,
  int,
  isObj,
  labelOf,
  list,
  nonEmptyStr,
  oneOf,
  percent,
  quote,
  str,
  suggest,
  type Obj,
  type Reader,
} from '../yaml/check.js';
import { formatDuration } from '../yaml/duration.js';
import { formatPercent } from '../yaml/percent.js';
import type { Problem, SourcePos } from '../yaml/problem.js';
import { parseYaml, plainValue, positionOf, type Path, type YamlSource } from '../yaml/source.js';
import { checkTemplate } from './template.js';
import { unknownTemplateLabels } from './templateLabels.js';
import {
  DURATION_STATS,
  SIGNALS,
  type AbsoluteThreshold,
  type BaselineSpec,
  type Direction,
  type Rule,
  type RuleGroup,
  type Schedule,
  type SignalName,
  type SignalOptions,
  type WhereValue,
} from './types.js';

const DAY = 24 * 3600_000;
export const MAX_WINDOW_MS = 90 * DAY;
const DEFAULT_WINDOW_MS = 7 * DAY;
const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_MIN_RUNS = 100;

const FILE_KEYS = ['groups'] as const;
const GROUP_KEYS = ['name', 'interval', 'cron', 'timeout', 'rules'] as const;
const OPTION_KEYS = ['escalations', 'per', 'cost', 'measure', 'stat', 'outcome', 'tokens', 'score', 'metric'] as const;
const RULE_KEYS = [
  'alert',
  'signal',
  'where',
  'group_by',
  'window',
  'baseline',
  'threshold',
  'direction',
  'min_runs',
  'significance',
  'for',
  'keep_firing_for',
  'confirm_window',
  'resolve_threshold',
  'labels',
  'annotations',
  ...OPTION_KEYS,
] as const;
const BASELINE_KEYS = ['previous', 'offset', 'seasonal_weeks', 'robust'] as const;

type OptionKey = (typeof OPTION_KEYS)[number];

/** Outcome names and score/metric names: what a run's column or map key holds, checked to be plain. */
const NAME = /^[A-Za-z0-9_.:/-]{1,100}$/;
const nameReader =
  (what: string): Reader<string> =>
  (c, v, path) => {
    const s = str(c, v, path);
    if (s === undefined) return undefined;
    if (NAME.test(s)) return s;
    c.report(path, `${labelOf(path)}: invalid ${what} ${quote(s)}: use letters, digits and _ . : / - (at most 100)`);
    return undefined;
  };

const outcomeList: Reader<string[]> = (c, v, path) => {
  const items = list(nameReader('outcome'))(c, typeof v === 'string' ? [v] : v, path);
  if (items !== undefined && items.length === 0) {
    c.report(path, 'outcome: an empty list counts no run as an error; list outcomes (e.g. [error, timeout]) or leave it out for every outcome but success');
    return undefined;
  }
  return items;
};

/**
 * Which signals each option belongs to, how it is read, and the default the signal gets without it
 * (`required`: the signal needs it written).
 */
const OPTIONS: {
  readonly [K in OptionKey]: { signals: readonly SignalName[]; read: Reader<NonNullable<SignalOptions[K]>>; fallback?: NonNullable<SignalOptions[K]>; hint?: string };
} = {
  escalations: { signals: ['policy_activation_rate'], read: bool, fallback: true },
  per: { signals: ['policy_activation_rate'], read: oneOf(['decision', 'run'] as const), fallback: 'decision' },
  cost: { signals: ['cost_per_success', 'cost'], read: oneOf(['token', 'tool', 'total'] as const), fallback: 'total' },
  measure: { signals: ['output_schema_shift'], read: oneOf(['js_distance', 'unseen_share', 'share'] as const), fallback: 'js_distance' },
  stat: { signals: ['duration'], read: oneOf(DURATION_STATS), fallback: 'mean' },
  outcome: { signals: ['error_rate'], read: outcomeList },
  tokens: { signals: ['tokens_per_run'], read: oneOf(['input', 'output', 'total'] as const), fallback: 'total' },
  score: { signals: ['score'], read: nameReader('score name'), hint: 'score: NAME (the evaluation or feedback score to follow, e.g. score: helpfulness)' },
  metric: { signals: ['metric'], read: nameReader('metric name'), hint: 'metric: NAME (the custom per-run value to follow, e.g. metric: records_processed)' },
};

/** Labels the alert pipeline sets itself; a rule may not override them. */
export const RESERVED_LABELS = ['alertname', 'rule', 'signal', 'key'] as const;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const ALERT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names already taken, shared across the files of one load so duplicates are found between files too. */
export interface NameRegistry {
  readonly alerts: Map<string, SourcePos>;
  readonly groups: Map<string, SourcePos>;
}

export function newNameRegistry(): NameRegistry {
  return { alerts: new Map(), groups: new Map() };
}

export interface FileResult {
  /** The groups that were read; only meaningful when `problems` is empty. */
  readonly groups: RuleGroup[];
  readonly problems: Problem[];
  /**
   * The file holds no document at all (empty, or comments only). Valid, as in Prometheus, but not
   * the same as `groups: []`: a file caught between truncation and rewrite looks exactly like this,
   * so the daemon does not take a blank file as the word to drop a file's rules (see daemon.ts).
   */
  readonly blank: boolean;
}

/** Parses and validates one rule file's text. */
export function parseRuleText(text: string, file: string, names: NameRegistry = newNameRegistry()): FileResult {
  const parsed = parseYaml(text, file);
  // After a syntax error the tree is a guess; checking it would only add confusing follow-up problems.
  if (parsed.problems.length > 0) return { groups: [], problems: parsed.problems, blank: false };
  const plain = plainValue(parsed.source);
  if (plain.problems.length > 0) return { groups: [], problems: plain.problems, blank: false };
  return validateRuleDocument(parsed.source, plain.value, names);
}

export function validateRuleDocument(source: YamlSource, value: unknown, names: NameRegistry): FileResult {
  const c = new Checker(source);
  const groups: RuleGroup[] = [];
  // An empty file (or one with only comments) is a valid file without groups, as in Prometheus.
  if (value !== undefined && value !== null) {
    const top = c.mapping(value, [], 'rule file', FILE_KEYS);
    const rawGroups = top === undefined ? undefined : c.field(top, [], 'groups', rawList);
    rawGroups?.forEach((g, i) => {
      const group = readGroup(c, g, ['groups', i], names);
      if (group !== undefined) groups.push(group);
    });
  }
  return { groups, problems: c.problems, blank: value === undefined || value === null };
}

const rawList: Reader<unknown[]> = (c, v, path) => {
  if (Array.isArray(v)) return v;
  c.report(path, `${labelOf(path)}: expected a list, got ${describe(v)}`);
  return undefined;
};

function readGroup(c: Checker, raw: unknown, path: Path, names: NameRegistry): RuleGroup | undefined {
  const m = c.mapping(raw, path, 'group', GROUP_KEYS);
  if (m === undefined) return undefined;

  const name = c.field(m, path, 'name', nonEmptyStr, 'group');
  if (name !== undefined) claim(c, names.groups, 'group name', name, [...path, 'name']);

  const interval = c.field(m, path, 'interval', duration({ min: [1000, '1s'] }));
  const cron = c.field(m, path, 'cron', cronReader);
  const hasInterval = m.interval !== undefined && m.interval !== null;
  const hasCron = m.cron !== undefined && m.cron !== null;
  if (hasInterval && hasCron) c.report([...path, 'cron'], 'group: use either interval or cron, not both', 'key');
  if (!hasInterval && !hasCron) c.report(path, 'group is missing required key "interval" (or "cron")');

  const timeout = c.field(m, path, 'timeout', duration({ min: [1000, '1s'] }));
  if (timeout !== undefined && interval !== undefined && timeout > interval) {
    // A group whose evaluation may outlast its interval would skip ticks by design; say so up front.
    c.report([...path, 'timeout'], `timeout: must not exceed the interval (${formatDuration(interval)}), got ${formatDuration(timeout)}`);
  }

  const rawRules = c.field(m, path, 'rules', rawList, 'group');
  const rules: Rule[] = [];
  rawRules?.forEach((r, i) => {
    const rule = readRule(c, r, [...path, 'rules', i], names);
    if (rule !== undefined) rules.push(rule);
  });

  // With neither a valid interval nor a cron a problem is already recorded and the group is discarded.
  const schedule: Schedule =
    cron !== undefined ? { kind: 'cron', expression: cron } : { kind: 'interval', everyMs: interval ?? DEFAULT_TIMEOUT_MS };
  const defaultTimeout = schedule.kind === 'interval' ? Math.min(schedule.everyMs, DEFAULT_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS;
  return {
    name: name ?? '',
    schedule,
    timeoutMs: timeout ?? defaultTimeout,
    rules,
    file: c.source.file,
    pos: positionOf(c.source, [...path, 'name'], 'key'),
  };
}

/** Records a name, or reports it as a duplicate pointing back at the first definition. */
function claim(c: Checker, taken: Map<string, SourcePos>, what: string, name: string, path: Path): void {
  const first = taken.get(name);
  if (first !== undefined) c.report(path, `duplicate ${what} ${quote(name)} (first defined at ${first.file}:${first.line})`);
  else taken.set(name, positionOf(c.source, path, 'key'));
}

const cronReader: Reader<string> = (c, v, path) => {
  const s = str(c, v, path);
  if (s === undefined) return undefined;
  let ok = false;
  let detail = '';
  try {
    ok = cronValidate(s);
    if (!ok) detail = cronDetails(s).errors.map((e) => e.message).join('; ');
  } catch (e) {
    detail = (e as Error).message;
  }
  if (ok) return s;
  c.report(path, `cron: invalid cron expression ${quote(s)}${detail ? ` (${detail})` : ''}; e.g. "*/5 * * * *"`);
  return undefined;
};

const alertName: Reader<string> = (c, v, path) => {
  const s = str(c, v, path);
  if (s === undefined) return undefined;
  if (ALERT_NAME.test(s)) return s;
  c.report(path, `alert: invalid alert name ${quote(s)}: use letters, digits and _, not starting with a digit`);
  return undefined;
};

/** What other tools call a signal, for the "did you mean" of an unknown one. */
const SIGNAL_SYNONYMS: Readonly<Record<string, SignalName>> = {
  latency: 'duration',
  errors: 'error_rate',
  error: 'error_rate',
  traffic: 'runs',
  spend: 'cost',
  tokens: 'tokens_per_run',
  feedback: 'score',
  eval: 'score',
};

const signalReader: Reader<SignalName> = (c, v, path) => {
  const s = str(c, v, path);
  if (s === undefined) return undefined;
  if ((SIGNALS as readonly string[]).includes(s)) return s as SignalName;
  const near = SIGNAL_SYNONYMS[s.toLowerCase()] ?? suggest(s, SIGNALS);
  c.report(path, `signal: unknown signal ${quote(s)} (${near !== null ? `did you mean "${near}"?` : `known: ${SIGNALS.join(', ')}`})`);
  return undefined;
};

const COLUMNS_HINT = `allowed: ${DIMENSION_COLUMNS.join(', ')}, or attributes.KEY`;

const whereReader: Reader<Partial<Record<Dimension, WhereValue>>> = (c, v, path) => {
  if (!isObj(v)) {
    c.report(path, `where: expected a mapping of column: value, got ${describe(v)}`);
    return undefined;
  }
  const out: Partial<Record<Dimension, WhereValue>> = {};
  for (const [col, val] of Object.entries(v)) {
    const p = [...path, col];
    if (!isDimension(col)) {
      c.report(p, `where: unknown column ${quote(col)} (${COLUMNS_HINT})`, 'key');
      continue;
    }
    if (typeof val === 'string') out[col] = val;
    else if (Array.isArray(val)) {
      if (val.length === 0) c.report(p, `where.${col}: an empty list matches nothing; remove the filter or list values`);
      const items: string[] = [];
      val.forEach((x: unknown, i) => {
        if (typeof x === 'string') items.push(x);
        else c.report([...p, i], `where.${col}[${i}]: expected a string, got ${describe(x)}${quoteHint(x)}`);
      });
      out[col] = items;
    } else {
      c.report(p, `where.${col}: expected a string or a list of strings, got ${describe(val)}${quoteHint(val)}`);
    }
  }
  return out;
};

/** YAML turns `1.10` into the number 1.1; a filter must be written as the string it matches. */
function quoteHint(v: unknown): string {
  return typeof v === 'number' || typeof v === 'boolean' ? ' (quote it)' : '';
}

const groupByReader: Reader<Dimension[]> = (c, v, path) => {
  const items = list(str)(c, v, path);
  if (items === undefined) return undefined;
  const out: Dimension[] = [];
  items.forEach((col, i) => {
    if (!isDimension(col)) c.report([...path, i], `group_by: unknown column ${quote(col)} (${COLUMNS_HINT})`);
    else if (out.includes(col)) c.report([...path, i], `group_by: duplicate column ${quote(col)}`);
    else if (out.some((o) => dimensionLabel(o) === dimensionLabel(col))) {
      c.report([...path, i], `group_by: ${quote(col)} and ${quote(out.find((o) => dimensionLabel(o) === dimensionLabel(col))!)} would share the label ${dimensionLabel(col)}`);
    } else out.push(col);
  });
  return out;
};

const windowReader = duration({ min: [60_000, '1m'], max: [MAX_WINDOW_MS, '90d'] });
const offsetReader = duration({ max: [MAX_WINDOW_MS, '90d'] });

function readBaseline(c: Checker, m: Obj, path: Path, windowMs: number | undefined): BaselineSpec {
  const fallback: BaselineSpec = { kind: 'previous', lengthMs: windowMs ?? DEFAULT_WINDOW_MS, offsetMs: 0 };
  if (m.baseline === undefined || m.baseline === null) return fallback;
  const bp = [...path, 'baseline'];
  const b = c.mapping(m.baseline, bp, 'baseline', BASELINE_KEYS);
  if (b === undefined) return fallback;
  const has = (k: string): boolean => b[k] !== undefined && b[k] !== null;
  const previous = c.field(b, bp, 'previous', windowReader);
  const offset = c.field(b, bp, 'offset', offsetReader);
  const weeks = c.field(b, bp, 'seasonal_weeks', int(1, 12, 'an integer from 1 to 12'));
  const robust = c.field(b, bp, 'robust', bool);
  if (has('previous') && has('seasonal_weeks')) {
    c.report([...bp, 'seasonal_weeks'], 'baseline: use either previous or seasonal_weeks, not both', 'key');
  } else if (!has('previous') && !has('seasonal_weeks')) {
    c.report(bp, 'baseline: needs previous (e.g. { previous: 7d }) or seasonal_weeks (e.g. { seasonal_weeks: 3 })');
  }
  if (has('seasonal_weeks') && has('offset')) {
    c.report([...bp, 'offset'], 'baseline.offset: applies only to a previous baseline, not to seasonal_weeks', 'key');
  }
  if (has('seasonal_weeks') && has('robust')) {
    // A seasonal baseline is a median of weeks already: one odd week does not move it.
    c.report([...bp, 'robust'], 'baseline.robust: applies only to a previous baseline (a seasonal baseline is already a median of weeks)', 'key');
  }
  if (weeks !== undefined && windowMs !== undefined && windowMs > 7 * DAY) {
    // Longer windows would overlap the same window one week back, so "seasonal" would compare a window with itself.
    c.report([...bp, 'seasonal_weeks'], `baseline.seasonal_weeks: needs a window of at most 7d, the window is ${formatDuration(windowMs)}`);
  }
  if (weeks !== undefined) return { kind: 'seasonal', weeks };
  return { kind: 'previous', lengthMs: previous ?? fallback.lengthMs, offsetMs: offset ?? 0, ...(robust === false ? { robust: false } : {}) };
}

const ABSOLUTE_KEYS = ['above', 'below'] as const;

/** `threshold: { above: N }` or `{ below: N }`: a number in the signal's unit. */
function readAbsolute(c: Checker, m: Obj, path: Path, signal: SignalName | undefined): AbsoluteThreshold | undefined {
  const tp = [...path, 'threshold'];
  const t = c.mapping(m.threshold, tp, 'threshold', ABSOLUTE_KEYS);
  if (t === undefined) return undefined;
  const bounds = ABSOLUTE_KEYS.filter((k) => t[k] !== undefined && t[k] !== null);
  if (bounds.length !== 1) {
    c.report(tp, `threshold: give exactly one of above or below (e.g. { above: 25 }), got ${bounds.length === 0 ? 'neither' : 'both'}`);
    return undefined;
  }
  const bound = bounds[0]!;
  const raw = t[bound];
  let value: number | undefined;
  if (typeof raw === 'number' && Number.isFinite(raw)) value = raw;
  else if (typeof raw === 'string' && /%\s*$/.test(raw)) value = percent(c, raw, [...tp, bound]);
  else c.report([...tp, bound], `threshold.${bound}: expected a number in the signal's unit (or a percentage for a rate), got ${describe(raw)}`);
  if (value === undefined) return undefined;
  if (signal === 'tool_calls_per_run' || signal === 'output_schema_shift') {
    // Their series are per key (a tool, the mix, a fingerprint) and the mix is a distance: a limit on one number does not fit.
    c.report(tp, `threshold: an absolute threshold is not available for ${signal}; use a relative one (e.g. 20%)`);
    return undefined;
  }
  return { bound, value };
}

function readThreshold(c: Checker, m: Obj, path: Path, signal: SignalName | undefined): number | undefined {
  const t = c.field(m, path, 'threshold', percent, 'rule');
  if (t === undefined) return undefined;
  const tp = [...path, 'threshold'];
  const raw = m.threshold;
  if (!(t > 0)) {
    c.report(tp, `threshold: must be greater than 0, got ${String(raw)}`);
    return undefined;
  }
  const plain = typeof raw === 'number' || (typeof raw === 'string' && !raw.trim().endsWith('%'));
  if (plain && t > 1) {
    // `threshold: 20` almost always means 20%, but as a fraction it is 2000%: make the author say which.
    c.report(tp, `threshold: a plain number is a fraction, so ${String(raw)} would mean ${formatPercent(t)}; write ${String(raw)}% (or ${formatPercent(t)} if that is meant)`);
    return undefined;
  }
  if (signal === 'output_schema_shift' && m.measure !== 'share' && t > 1) {
    c.report(tp, `threshold: for output_schema_shift the threshold is an effect size between 0 and 1 (e.g. 20%), got ${String(raw)}`);
    return undefined;
  }
  return t;
}

/** `resolve_threshold`: like the threshold, 0 allowed (resolve only once the change is gone), at most the threshold. */
function readResolveThreshold(c: Checker, m: Obj, path: Path, threshold: number | undefined): number | undefined {
  const t = c.field(m, path, 'resolve_threshold', percent);
  if (t === undefined) return undefined;
  const raw = m.resolve_threshold;
  if (!(t >= 0)) {
    c.report([...path, 'resolve_threshold'], `resolve_threshold: must be 0 or more, got ${String(raw)}`);
    return undefined;
  }
  if (threshold !== undefined && t > threshold) {
    c.report([...path, 'resolve_threshold'], `resolve_threshold: must not exceed the threshold (${formatPercent(threshold)}), got ${formatPercent(t)}: a firing series would resolve while its condition still holds`);
    return undefined;
  }
  return t;
}

/**
 * `resolve_threshold` beside an absolute threshold: a number in the same unit, on the safe side of
 * it (below an `above`, above a `below`), so a firing series holds until the value is well back.
 */
function readAbsoluteResolve(c: Checker, m: Obj, path: Path, absolute: AbsoluteThreshold): number | undefined {
  const raw = m.resolve_threshold;
  if (raw === undefined || raw === null) return undefined;
  const p = [...path, 'resolve_threshold'];
  if (typeof raw !== 'number' || !Number.isFinite(raw)) {
    c.report(p, `resolve_threshold: with an absolute threshold, a number in the same unit, got ${describe(raw)}`);
    return undefined;
  }
  if (absolute.bound === 'above' ? raw > absolute.value : raw < absolute.value) {
    c.report(p, `resolve_threshold: must be ${absolute.bound === 'above' ? 'at most' : 'at least'} the threshold (${absolute.value}), got ${raw}: a firing series would resolve while its condition still holds`);
    return undefined;
  }
  return raw;
}

const significanceReader: Reader<number> = (c, v, path) => {
  if (typeof v === 'number' && v > 0 && v < 1) return v;
  const got = typeof v === 'number' ? String(v) : describe(v);
  c.report(path, `significance: must be a number between 0 and 1 (exclusive), e.g. 0.01, got ${got}`);
  return undefined;
};

function readNamedStrings(c: Checker, v: unknown, path: Path, what: 'label' | 'annotation', groupBy: readonly string[]): Record<string, string> | undefined {
  const plural = `${what}s`;
  if (!isObj(v)) {
    c.report(path, `${plural}: expected a mapping of name: value, got ${describe(v)}`);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [name, val] of Object.entries(v)) {
    const p = [...path, name];
    if (!LABEL_NAME.test(name)) {
      c.report(p, `${plural}: invalid ${what} name ${quote(name)}: use letters, digits and _, not starting with a digit`, 'key');
    } else if (what === 'label' && (RESERVED_LABELS as readonly string[]).includes(name)) {
      c.report(p, `labels: ${quote(name)} is reserved (set by agentdrift itself: ${RESERVED_LABELS.join(', ')})`, 'key');
    } else if (name.startsWith('__')) {
      c.report(p, `${plural}: names starting with __ are reserved, got ${quote(name)}`, 'key');
    } else if (what === 'label' && groupBy.includes(name)) {
      c.report(p, `labels: ${quote(name)} is a group_by column; each alert gets it from its group`, 'key');
    }
    if (typeof val !== 'string') {
      c.report(p, `${plural}.${name}: expected a string, got ${describe(val)}${quoteHint(val)}`);
      continue;
    }
    const err = checkTemplate(val);
    if (err !== null) c.report(p, `${plural}.${name}: bad template: ${err}`);
    out[name] = val;
  }
  return out;
}

function readOptions(c: Checker, m: Obj, path: Path, signal: SignalName | undefined): SignalOptions {
  const out: Record<string, unknown> = {};
  for (const key of OPTION_KEYS) {
    const spec = OPTIONS[key];
    const value = c.field(m, path, key, spec.read as Reader<unknown>);
    const applies = signal !== undefined && spec.signals.includes(signal);
    if (m[key] !== undefined && signal !== undefined && !applies) {
      c.report([...path, key], `${key}: option only for signal ${spec.signals.join(' or ')}, this rule's signal is ${signal}`, 'key');
    }
    if (!applies) continue;
    if (value !== undefined) out[key] = value;
    else if (spec.fallback !== undefined) out[key] = spec.fallback;
    else if (spec.hint !== undefined && (m[key] === undefined || m[key] === null)) c.report(path, `rule with signal ${signal} needs ${spec.hint}`);
  }
  return out as SignalOptions;
}

function readRule(c: Checker, raw: unknown, path: Path, names: NameRegistry): Rule | undefined {
  const m = c.mapping(raw, path, 'rule', RULE_KEYS);
  if (m === undefined) return undefined;

  const alert = c.field(m, path, 'alert', alertName, 'rule');
  if (alert !== undefined) claim(c, names.alerts, 'alert name', alert, [...path, 'alert']);
  const signal = c.field(m, path, 'signal', signalReader, 'rule');
  const where = c.field(m, path, 'where', whereReader) ?? {};
  const groupBy = c.field(m, path, 'group_by', groupByReader) ?? [];
  // undefined only when a window was written and is invalid: checks that depend on it are then skipped.
  const windowMs = m.window === undefined || m.window === null ? DEFAULT_WINDOW_MS : c.field(m, path, 'window', windowReader);
  const baseline = readBaseline(c, m, path, windowMs);
  const absolute = isObj(m.threshold) ? readAbsolute(c, m, path, signal) : undefined;
  const threshold = isObj(m.threshold) ? absolute?.value : readThreshold(c, m, path, signal);
  const direction = c.field(m, path, 'direction', oneOf<Direction>(['up', 'down', 'both']));
  if (absolute !== undefined && direction !== undefined) {
    c.report([...path, 'direction'], `direction: an absolute threshold says its own direction (${absolute.bound}); leave direction out`, 'key');
  }
  // A share (`measure: share`) moves either way; a distance or an unseen share only grows.
  if (signal === 'output_schema_shift' && direction !== undefined && direction !== 'up' && m.measure !== 'share') {
    c.report([...path, 'direction'], 'direction: output_schema_shift can only drift up (its effect size is never negative); with measure: share a fingerprint\'s share can move either way');
  }
  const minRuns = c.field(m, path, 'min_runs', int(1, Number.MAX_SAFE_INTEGER, 'a positive integer'));
  const significance = c.field(m, path, 'significance', significanceReader);
  const forMs = c.field(m, path, 'for', duration());
  const keepFiringForMs = c.field(m, path, 'keep_firing_for', duration());
  const confirmWindowMs = c.field(m, path, 'confirm_window', duration({ min: [60_000, '1m'] }));
  if (confirmWindowMs !== undefined && windowMs !== undefined && confirmWindowMs >= windowMs) {
    c.report([...path, 'confirm_window'], `confirm_window: must be shorter than the window (${formatDuration(windowMs)}), got ${formatDuration(confirmWindowMs)}`);
  }
  const resolveThreshold = absolute !== undefined ? readAbsoluteResolve(c, m, path, absolute) : readResolveThreshold(c, m, path, threshold);
  const labels = c.field(m, path, 'labels', (cc, v, p) => readNamedStrings(cc, v, p, 'label', groupBy.map(dimensionLabel)));
  const annotations = c.field(m, path, 'annotations', (cc, v, p) => readNamedStrings(cc, v, p, 'annotation', []));
  const options = readOptions(c, m, path, signal);
  for (const u of unknownTemplateLabels({ signal, groupBy, options, labels: labels ?? {}, annotations: annotations ?? {} })) c.report([...path, u.field, u.name], u.message);

  if (alert === undefined || signal === undefined || threshold === undefined) return undefined;
  return {
    alert,
    signal,
    where,
    groupBy,
    windowMs: windowMs ?? DEFAULT_WINDOW_MS,
    baseline,
    threshold,
    ...(absolute !== undefined ? { absolute } : {}),
    direction: absolute !== undefined ? (absolute.bound === 'above' ? 'up' : 'down') : (direction ?? 'up'),
    minRuns: minRuns ?? DEFAULT_MIN_RUNS,
    significance: significance ?? null,
    forMs: forMs ?? 0,
    ...(keepFiringForMs ? { keepFiringForMs } : {}),
    ...(confirmWindowMs !== undefined && (windowMs === undefined || confirmWindowMs < windowMs) ? { confirmWindowMs } : {}),
    ...(resolveThreshold !== undefined ? { resolveThreshold } : {}),
    options,
    labels: labels ?? {},
    annotations: annotations ?? {},
    pos: positionOf(c.source, [...path, 'alert'], 'key'),
  };
}
