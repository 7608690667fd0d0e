/**
 * One scrape's view of the engine's alert state: every series of every loaded rule, capped per rule,
 * with its labels. A scrape takes it once and every per-series gauge is written from it, so the
 * series are walked (and their labels bounded and escaped) once per scrape, not once per gauge, and
 * all the gauges of a scrape describe the same state.
 */
import type { AlertSeries } from '../alerting/state.js';
import type { AlertState, Evidence } from '../alerting/types.js';
import type { Rule } from '../rules/types.js';
import { DIMENSION_COLUMNS } from '../store/contract.js';
import { capSeries, magnitudeOf } from './cap.js';
import type { SeriesGaugeName } from './definitions.js';
import { RepeatedSamples, escapeLabelValue, familyHead, lineStart, sampleRest } from './exposition.js';
import { attributesLabelValue, boundLabelValue, ruleLabels, seriesLabels, type RuleLabels, type SeriesLabels } from './labels.js';

/** What a snapshot is taken from: the engine's alert state and the rules loaded now. */
export interface SnapshotSource {
  readonly alertStates: ReadonlyMap<string, AlertSeries>;
  readonly rules: ReadonlyMap<string, Rule>;
}

/** One exported series: what its gauges' samples are made of. */
export class ExportedSeries {
  #labels: SeriesLabels | undefined;

  constructor(
    /** The engine's series (read-only here). */
    readonly series: AlertSeries,
    private readonly rule: RuleText,
    /** The series' labels as exposition text, escaped: `rule="…",signal="…",…,severity="…"`. */
    readonly labelText: string,
    /** The numbers to export; null when the latest evaluation did not measure the series. */
    readonly evidence: Evidence | null,
  ) {}

  get state(): AlertState {
    return this.series.record.state;
  }

  get acceptedAt(): number | null {
    return this.series.accepted?.at ?? null;
  }

  /** The labels as an object (for prom-client's gauges, when the registry is scraped directly). */
  get labels(): SeriesLabels {
    return (this.#labels ??= seriesLabels(this.rule.base, this.series.labels, this.series.key));
  }
}

/** The exported series of one rule. */
export interface SeriesGroup {
  readonly series: readonly ExportedSeries[];
  /**
   * The text of the group's samples, by gauge, while the group is what it was at the previous scrape
   * (the same rule, the same series objects: nothing in it changed); null when it changed since.
   */
  readonly texts: Map<SeriesGaugeName, string> | null;
}

export interface SeriesSnapshot {
  /** By rule, in order of the rules' first series, capped per rule. */
  readonly groups: readonly SeriesGroup[];
  /** Every group's series, in the same order. */
  readonly series: readonly ExportedSeries[];
  /** No two series export the same labels (then a gauge's samples need no de-duplication). */
  readonly unique: boolean;
}

const EMPTY_SNAPSHOT: SeriesSnapshot = { groups: [], series: [], unique: true };

/** A rule's labels, bounded, and as the text around a series' own. */
interface RuleText {
  readonly rule: Rule;
  /** Already bounded (bounding is idempotent, so seriesLabels keeps them as they are). */
  readonly base: RuleLabels;
  /** `rule="…",signal="…"` */
  readonly head: string;
  /** `,severity="…"` */
  readonly tail: string;
}

function ruleText(rule: Rule): RuleText {
  const l = ruleLabels(rule);
  const base: RuleLabels = { rule: boundLabelValue(l.rule), signal: l.signal, severity: boundLabelValue(l.severity) };
  return {
    rule,
    base,
    head: `rule="${escapeLabelValue(base.rule)}",signal="${escapeLabelValue(base.signal)}"`,
    tail: `,severity="${escapeLabelValue(base.severity)}"`,
  };
}

/** `,workflow_id=""`, …: a dimension the series has no value for. */
const EMPTY_DIMENSION = new Map(DIMENSION_COLUMNS.map((c) => [c, `,${c}=""`]));

/**
 * The label text of a series: labelText(seriesLabels(…)) without the object in between, in the
 * same order (SERIES_LABEL_NAMES: rule, signal, key, the dimension columns, attributes, severity). Joined from
 * its parts so that it is one flat string: it is copied into every sample of the series, and copying
 * a string built by `+=` walks all its pieces each time.
 */
function seriesText(rule: RuleText, groupLabels: Readonly<Record<string, string>>, key: string): string {
  const parts = [rule.head, `,key="${escapeLabelValue(boundLabelValue(key))}"`];
  for (const c of DIMENSION_COLUMNS) {
    const v = groupLabels[c];
    parts.push(v === undefined || v === '' ? EMPTY_DIMENSION.get(c)! : `,${c}="${escapeLabelValue(boundLabelValue(v))}"`);
  }
  parts.push(`,attributes="${escapeLabelValue(boundLabelValue(attributesLabelValue(groupLabels)))}"`, rule.tail);
  return parts.join('');
}

/**
 * What one scrape derives that the next may reuse, for the series and rules of the latest scrape only
 * (each snapshot starts a new generation and drops the rest):
 * - the label text of each series, by series id: kept while its rule, key and dimension values are
 *   the same (the engine replaces a series' objects each time it steps it, so object identity alone
 *   would miss every evaluation);
 * - the text of each rule's samples, by gauge: kept while the rule and its series' objects are the
 *   same ones as at the scrape before (nothing in them changed: the engine never changes them in
 *   place). A rule gets this text at its second scrape unchanged, so a rule evaluated between every
 *   two scrapes costs no extra copy; it holds about one scrape's text of the unchanged rules.
 */
export class ScrapeCache {
  private previous = new Map<string, CachedText>();
  private current = new Map<string, CachedText>();
  private previousGroups = new Map<string, CachedGroup>();
  private currentGroups = new Map<string, CachedGroup>();

  /** A new snapshot: what the last one used is what this one may reuse. */
  nextGeneration(): void {
    this.previous = this.current;
    this.current = new Map();
    this.previousGroups = this.currentGroups;
    this.currentGroups = new Map();
  }

  textOf(rule: RuleText, s: AlertSeries): string {
    let entry = this.previous.get(s.id);
    if (entry === undefined || entry.rule !== rule.rule || entry.key !== s.key || !sameDimensions(entry.labels, s.labels)) {
      entry = { rule: rule.rule, key: s.key, labels: s.labels, text: seriesText(rule, s.labels, s.key) };
    } else entry.labels = s.labels; // the next scrape compares by identity first
    this.current.set(s.id, entry);
    return entry.text;
  }

  /** The sample texts of a rule's group (see SeriesGroup.texts). */
  groupTexts(rule: Rule, kept: readonly AlertSeries[]): Map<SeriesGaugeName, string> | null {
    const prev = this.previousGroups.get(rule.alert);
    const same = prev !== undefined && prev.rule === rule && prev.kept.length === kept.length && prev.kept.every((s, i) => s === kept[i]);
    const entry: CachedGroup = { rule, kept, texts: same ? (prev.texts ?? new Map()) : null };
    this.currentGroups.set(rule.alert, entry);
    return entry.texts;
  }
}

interface CachedGroup {
  readonly rule: Rule;
  readonly kept: readonly AlertSeries[];
  readonly texts: Map<SeriesGaugeName, string> | null;
}

interface CachedText {
  readonly rule: Rule;
  readonly key: string;
  labels: Readonly<Record<string, string>>;
  readonly text: string;
}

/** Whether two label sets give the same label text (only the dimension columns are exported). */
function sameDimensions(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  for (const c of DIMENSION_COLUMNS) if ((a[c] ?? '') !== (b[c] ?? '')) return false;
  return true;
}

/** The numbers of the last measurement, while the latest evaluation measured it or failed. */
function evidenceOf(s: AlertSeries): Evidence | null {
  return s.measured || s.record.health === 'error' ? (s.evidence ?? null) : null;
}

/**
 * Every series of every loaded rule, capped per rule (active first, then the largest moves): one walk
 * of the alert state. Rules under the cap keep the engine's order and are not ranked; labels are
 * computed for the series kept only.
 */
export function takeSnapshot(source: SnapshotSource | null, maxSeriesPerRule: number, cache = new ScrapeCache()): SeriesSnapshot {
  if (source === null) return EMPTY_SNAPSHOT;
  cache.nextGeneration();
  const { alertStates, rules } = source;
  // null: the series' rule is not loaded (its state is about to be dropped); not exported.
  const byRule = new Map<string, { readonly rule: RuleText; readonly list: AlertSeries[] } | null>();
  for (const s of alertStates.values()) {
    let entry = byRule.get(s.alert);
    if (entry === undefined) {
      const rule = rules.get(s.alert);
      entry = rule === undefined ? null : { rule: ruleText(rule), list: [] };
      byRule.set(s.alert, entry);
    }
    entry?.list.push(s);
  }
  const groups: SeriesGroup[] = [];
  const series: ExportedSeries[] = [];
  const texts = new Set<string>();
  for (const entry of byRule.values()) {
    if (entry === null) continue;
    const kept = capped(entry.list, maxSeriesPerRule);
    const group: ExportedSeries[] = [];
    for (const s of kept) {
      const text = cache.textOf(entry.rule, s);
      texts.add(text);
      group.push(new ExportedSeries(s, entry.rule, text, evidenceOf(s)));
    }
    groups.push({ series: group, texts: cache.groupTexts(entry.rule.rule, kept) });
    for (const e of group) series.push(e);
  }
  return { groups, series, unique: texts.size === series.length };
}

/** The series of one rule the cap keeps (capSeries), in the engine's order when all are kept. */
function capped(list: AlertSeries[], max: number): readonly AlertSeries[] {
  if (list.length <= max) return list;
  const candidates = list.map((s) => {
    const evidence = evidenceOf(s);
    return { id: s.id, magnitude: evidence ? magnitudeOf(evidence.deviation, evidence.isNew) : -1, state: s.record.state, s };
  });
  return capSeries(candidates, max).kept.map((c) => c.s);
}

/** A sample's label beyond the series' own (`alertstate`, `window`), with its text (`,window="current"`). */
export interface ExtraLabel {
  readonly name: 'alertstate' | 'window';
  readonly value: string;
  readonly text: string;
}

function extraLabel(name: ExtraLabel['name'], value: string): ExtraLabel {
  return { name, value, text: `,${name}="${escapeLabelValue(value)}"` };
}

const WINDOW_CURRENT = extraLabel('window', 'current');
const WINDOW_BASELINE = extraLabel('window', 'baseline');
const ALERT_STATES: readonly AlertState[] = ['inactive', 'pending', 'firing', 'resolved', 'nodata', 'error'];
const ALERTSTATE = new Map(ALERT_STATES.map((s) => [s, extraLabel('alertstate', s)]));

/** Where the samples of a gauge go: a family being written (metricsText) or a prom-client gauge. */
export type SampleSink = (e: ExportedSeries, extra: ExtraLabel | null, value: number) => void;

/**
 * The samples one series gives the gauge `name`: the values of its last measurement (only while the
 * latest evaluation measured it, or kept through a failed query), its alert state, its acceptance.
 * A value that cannot be computed (null, NaN) gives no sample rather than a made-up one.
 */
export function seriesSamples(name: SeriesGaugeName, e: ExportedSeries, sink: SampleSink): void {
  if (name === 'alertState') return sink(e, ALERTSTATE.get(e.state) ?? extraLabel('alertstate', e.state), 1);
  if (name === 'accepted') {
    const at = e.acceptedAt;
    if (at !== null) sink(e, null, at / 1000);
    return;
  }
  const evidence = e.evidence;
  if (evidence === null) return;
  switch (name) {
    case 'current':
      return sinkIfKnown(sink, e, evidence.current);
    case 'baseline':
      return sinkIfKnown(sink, e, evidence.baseline);
    case 'deviation':
      return sinkIfKnown(sink, e, evidence.deviation === null && evidence.isNew ? Infinity : evidence.deviation);
    case 'runs':
      sink(e, WINDOW_CURRENT, evidence.currentRuns);
      sink(e, WINDOW_BASELINE, evidence.baselineRuns);
      return;
    case 'pValue':
      return sinkIfKnown(sink, e, evidence.pValue);
  }
}

function sinkIfKnown(sink: SampleSink, e: ExportedSeries, value: number | null): void {
  if (value === null || Number.isNaN(value)) return;
  sink(e, null, value);
}

/**
 * Writes the gauge `name` (metric name and help as registered) over a snapshot into `out`, the pieces
 * of a scrape's text (see lineStart()): a rule unchanged since the scrape before from its text then,
 * or written now (and kept, see ScrapeCache); when label sets repeat, every sample anew, de-duplicated.
 */
export function renderFamily(out: string[], name: SeriesGaugeName, metric: { readonly name: string; readonly help: string }, snapshot: SeriesSnapshot): void {
  out.push(familyHead(metric.name, metric.help, 'gauge'));
  const start = lineStart(metric.name);
  if (!snapshot.unique) {
    const samples = new RepeatedSamples();
    const sink: SampleSink = (e, extra, value) => samples.set(e.labelText, extra === null ? '' : extra.text, value);
    for (const e of snapshot.series) seriesSamples(name, e, sink);
    samples.writeTo(out, start);
    return;
  }
  let to = out;
  const sink: SampleSink = (e, extra, value) => to.push(start, e.labelText, sampleRest(extra === null ? '' : extra.text, value));
  for (const group of snapshot.groups) {
    const kept = group.texts?.get(name);
    if (kept !== undefined) {
      if (kept !== '') out.push(kept);
      continue;
    }
    to = group.texts === null ? out : [];
    for (const e of group.series) seriesSamples(name, e, sink);
    if (to === out) continue;
    // Joined once: one flat string, copied as a whole into every later scrape's text.
    const text = to.join('');
    group.texts!.set(name, text);
    if (text !== '') out.push(text);
  }
}
