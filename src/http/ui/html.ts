/**
 * The web UI's page frame: escaping, the layout (navigation, styles) and the few formatting helpers
 * every page uses. Pages are strings built on the server; the only script is /ui/app.js (client.ts),
 * loaded from the daemon itself, so the Content-Security-Policy can forbid inline scripts entirely.
 */
import { formatDeviation } from '../../signals/deviationKind.js';
import { humanize } from '../../util/format.js';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text and attribute values: labels, annotations and rule names come from users and the data. */
export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * No inline script, nothing from another origin, no framing (the accept button must not be
 * clickjacked), forms post only here.
 */
export const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE = `
:root { --fg:#1d2330; --muted:#667085; --line:#d0d5dd; --bg:#fff; --firing:#c0362c; --pending:#b7791f; --resolved:#2f855a; --accent:#2b59c3; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { display: flex; gap: 1.5em; align-items: baseline; padding: .7em 1.5em; border-bottom: 1px solid var(--line); background: #f8f9fb; }
header .brand { font-weight: 700; }
header nav a { margin-right: 1.1em; color: var(--fg); text-decoration: none; }
header nav a.here { font-weight: 600; border-bottom: 2px solid var(--accent); }
main { padding: 1em 1.5em 3em; max-width: 1200px; }
h1 { font-size: 1.35em; margin: .3em 0 .6em; } h2 { font-size: 1.1em; margin: 1.4em 0 .5em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-weight: 600; color: var(--muted); font-size: .9em; }
a { color: var(--accent); }
.muted { color: var(--muted); }
.labels code, code { background: #f1f3f7; padding: 0 .3em; border-radius: 3px; font-size: .92em; }
.state { display: inline-block; padding: 0 .5em; border-radius: 9px; font-size: .85em; font-weight: 600; color: #fff; background: var(--muted); }
.state-firing { background: var(--firing); } .state-pending { background: var(--pending); } .state-resolved { background: var(--resolved); }
.state-error, .state-nodata { background: #6b46c1; }
.sev-critical { color: var(--firing); font-weight: 600; } .sev-warning { color: var(--pending); font-weight: 600; }
svg.spark .line, svg.chart .line { fill: none; stroke: var(--accent); stroke-width: 1.5; }
svg.spark .base, svg.chart .base { stroke: var(--muted); stroke-dasharray: 4 3; }
svg.spark .dot { fill: var(--accent); }
svg.chart .grid { stroke: #eef0f4; } svg.chart .axis { stroke: var(--line); }
svg.chart .tick { font-size: 11px; fill: var(--muted); }
svg.chart .window { fill: #f3f6fc; }
svg.chart .onset { stroke: var(--firing); stroke-width: 1.5; } svg.chart .onset-band { fill: #fbe9e7; }
svg.chart .onset-label { font-size: 11px; fill: var(--firing); }
svg.chart .step { fill: none; stroke: var(--firing); stroke-width: 1; stroke-dasharray: 2 2; }
svg.timeline .firing { fill: var(--firing); } svg.timeline .pending { fill: var(--pending); }
svg.timeline text { font-size: 11px; fill: var(--fg); }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1.2em; margin: .5em 0 1em; }
.facts dt { color: var(--muted); } .facts dd { margin: 0; }
.cause { font-size: 1.05em; padding: .6em .8em; background: #fff8e6; border-left: 3px solid var(--pending); margin: .5em 0; }
form.box { border: 1px solid var(--line); padding: .8em 1em; border-radius: 6px; max-width: 720px; background: #fafbfc; }
textarea, input[type=text], input[type=number] { font: inherit; padding: .3em .4em; border: 1px solid var(--line); border-radius: 4px; }
textarea { width: 100%; }
button { font: inherit; padding: .35em 1em; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; cursor: pointer; }
.notice { padding: .5em .8em; border-radius: 4px; margin: .6em 0; }
.notice.ok { background: #e6f4ea; } .notice.err { background: #fdecea; }
.pager a { margin-right: 1em; }
`;

const NAV: readonly [string, string][] = [
  ['/', 'Alerts'],
  ['/rules', 'Rules'],
  ['/history', 'History'],
  ['/backtest', 'Backtest'],
];

export function page(title: string, here: string, body: string): string {
  const nav = NAV.map(([href, name]) => `<a href="${href}"${href === here ? ' class="here"' : ''}>${name}</a>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · agentdrift</title><style>${STYLE}</style><script src="/ui/app.js" defer></script></head>
<body><header><span class="brand">agentdrift</span><nav>${nav}</nav><span class="muted"><a href="/api/v1/alerts">API</a></span></header>
<main>${body}</main></body></html>
`;
}

export function stateBadge(state: string): string {
  return `<span class="state state-${esc(state)}">${esc(state)}</span>`;
}

export function labelsHtml(labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '<span class="muted">(no labels)</span>' : `<span class="labels">${entries.map(([k, v]) => `<code>${esc(k)}=${esc(v)}</code>`).join(' ')}</span>`;
}

/** "2026-11-22 02:55 UTC" from an ISO time (what the API returns). */
export function when(iso: string | null): string {
  return iso === null ? '<span class="muted">never</span>' : `<time datetime="${esc(iso)}">${esc(iso.slice(0, 16).replace('T', ' '))} UTC</time>`;
}

export function num(x: number | null | undefined): string {
  return x === null || x === undefined ? 'n/a' : humanize(x);
}

/**
 * A series' value as what it is: against its baseline with the relative change ("1.87 vs 1.1,
 * +70.5%"), against an absolute limit ("38.8, limit above 25"), or a distance between the windows
 * ("JSD 0.49, threshold 0.2"), which has no baseline value and is not a percent change.
 */
export function valueAgainst(a: {
  readonly value: number | null;
  readonly baseline: number | null;
  readonly deviation: number | null;
  readonly deviation_kind: 'relative' | 'js_distance' | 'unseen_share';
  readonly is_new: boolean;
  readonly threshold: number | null;
  readonly limit: { readonly bound: string; readonly value: number } | null;
}): { readonly value: string; readonly against: string } {
  if (a.limit !== null) return { value: num(a.value), against: `limit: ${a.limit.bound} ${num(a.limit.value)}` };
  // A distance's value is the distance, written as eval writes it.
  if (a.deviation_kind === 'js_distance') return { value: formatDeviation(a.deviation_kind, a.value), against: `threshold ${num(a.threshold)}` };
  if (a.deviation_kind === 'unseen_share') return { value: formatDeviation(a.deviation_kind, a.value), against: `threshold ${pct(a.threshold).replace('+', '')}` };
  return { value: `${num(a.value)} vs ${num(a.baseline)}`, against: a.is_new ? 'new' : pct(a.deviation) };
}

export function pct(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
}
