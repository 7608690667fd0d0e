/**
 * The web UI's pages, rendered on the server from the very JSON the API returns (api.ts): the lists
 * read without JavaScript; /ui/app.js only sends the accept form and runs backtest previews.
 */
import type { AlertState } from '../../alerting/types.js';
import type { ExplanationJson, SeriesJson, evaluations as evaluationsFn, history as historyFn, listAlerts, listRules } from '../api.js';
import { esc, labelsHtml, num, page, pct, stateBadge, valueAgainst, when } from './html.js';
import { explanationChart, sparkline } from './svg.js';

type AlertsAnswer = ReturnType<typeof listAlerts>;

const SECTIONS: readonly [AlertState, string][] = [
  ['firing', 'Firing'],
  ['pending', 'Pending'],
  ['error', 'Error'],
  ['nodata', 'No data'],
  ['resolved', 'Recently resolved'],
  ['inactive', 'Inactive'],
];

function since(a: SeriesJson): string | null {
  if (a.state === 'resolved') return a.resolved_at;
  if (a.state === 'firing') return a.fired_at ?? a.active_at;
  return a.active_at ?? a.last_evaluation;
}

function alertRow(a: SeriesJson): string {
  const points = a.recent_values.map((p) => ({ t: Date.parse(p.at ?? ''), v: p.value }));
  const spark = sparkline(points, a.baseline, `${a.alertname} recent values against baseline ${num(a.baseline)}`);
  return `<tr data-series="${esc(a.id)}">
<td>${stateBadge(a.state)}</td>
<td class="sev-${esc(a.severity ?? '')}">${esc(a.severity ?? '')}</td>
<td><a href="${esc(a.url)}">${esc(a.alertname)}</a><br>${labelsHtml(a.labels)}</td>
<td>${when(since(a))}</td>
<td>${esc(valueAgainst(a).value)}<br><span class="muted">${esc(valueAgainst(a).against)}</span></td>
<td>${spark}</td>
</tr>`;
}

/** `/`: firing, pending and recently resolved series (inactive ones on request), one page of them. */
export function alertsPage(r: AlertsAnswer, selfQuery: URLSearchParams): string {
  const counts = SECTIONS.map(([s, name]) => `${name.toLowerCase()} ${r.counts[s]}`).join(' · ');
  const out: string[] = [`<h1>Alerts</h1><p class="muted">${esc(counts)} · as of ${when(r.generated_at)}</p>`];
  const head = '<tr><th>state</th><th>severity</th><th>alert</th><th>since</th><th>value vs baseline</th><th>recent values</th></tr>';
  for (const [state, name] of SECTIONS) {
    const rows = r.alerts.filter((a) => a.state === state);
    if (rows.length === 0) continue;
    out.push(`<h2 id="${state}">${esc(name)} <span class="muted">(${r.counts[state]})</span></h2><table class="alerts" data-state="${state}">${head}${rows.map(alertRow).join('')}</table>`);
  }
  if (r.total === 0) out.push('<p>Nothing is firing, pending or recently resolved.</p>');
  const pager: string[] = [];
  const at = (offset: number) => {
    const q = new URLSearchParams(selfQuery);
    q.set('offset', String(offset));
    return `?${q.toString()}`;
  };
  if (r.offset > 0) pager.push(`<a href="${esc(at(Math.max(0, r.offset - r.limit)))}">← previous</a>`);
  if (r.offset + r.limit < r.total) pager.push(`<a href="${esc(at(r.offset + r.limit))}">next →</a>`);
  out.push(`<p class="pager muted">${r.total === 0 ? '' : `showing ${r.offset + 1}–${Math.min(r.total, r.offset + r.limit)} of ${r.total}`} ${pager.join('')}</p>`);
  if (!r.states.includes('inactive')) out.push(`<p class="muted">${r.counts.inactive} inactive series are not listed: <a href="/?state=inactive">show them</a>.</p>`);
  return page('Alerts', '/', out.join('\n'));
}

type Detail = SeriesJson & { readonly rule: { readonly name: string; readonly signal: string; readonly threshold: number; readonly window: number; readonly file: string; readonly line: number } };

const PERCENT_KINDS = new Set(['fingerprints', 'policy_rules']);

/** The alert page: the series, its explanation drawn, and the accept form. */
export function alertPage(a: Detail, e: ExplanationJson | null, explainError: string | null): string {
  const format = (v: number) => (e !== null && PERCENT_KINDS.has(e.moved.kind) ? `${Number((v * 100).toPrecision(3))}%` : num(v));
  const out: string[] = [];
  out.push(`<h1>${esc(a.alertname)} ${stateBadge(a.state)}</h1><p>${labelsHtml(a.labels)}</p>`);
  out.push(`<dl class="facts">
<dt>severity</dt><dd>${esc(a.severity ?? 'none')}</dd>
<dt>value</dt><dd>${esc(valueAgainst(a).value)} (${esc(valueAgainst(a).against)}${a.limit === null && a.deviation_kind === 'relative' ? `; threshold ${esc(pct(a.threshold))}` : ''})</dd>
<dt>runs</dt><dd>${esc(num(a.current_runs))} now, ${esc(num(a.baseline_runs))} in the baseline</dd>
<dt>active since</dt><dd>${when(a.active_at)}</dd><dt>firing since</dt><dd>${when(a.fired_at)}</dd><dt>resolved</dt><dd>${when(a.resolved_at)}</dd>
<dt>last evaluation</dt><dd>${when(a.last_evaluation)}</dd>
${a.accepted ? `<dt>accepted</dt><dd>${when(a.accepted.at)}: ${esc(a.accepted.reason)} (baseline ${esc(num(a.accepted.baseline))} until ${when(a.accepted.until)})</dd>` : ''}
${a.last_error ? `<dt>last error</dt><dd>${esc(a.last_error)}</dd>` : ''}
<dt>rule</dt><dd><a href="/rules#${esc(encodeURIComponent(a.alertname))}">${esc(a.rule.signal)}</a> <span class="muted">${esc(a.rule.file)}:${a.rule.line}</span></dd>
<dt>JSON</dt><dd><a href="${esc(a.api_url)}">series</a> · <a href="${esc(a.api_url.replace('/api/v1/alerts/', '/api/v1/explanations/'))}">explanation</a></dd>
</dl>`);
  if (a.annotations.summary) out.push(`<p>${esc(a.annotations.summary)}</p>`);

  out.push('<h2>Which change caused it</h2>');
  if (explainError !== null) out.push(`<p class="notice err">The explanation could not be computed: ${esc(explainError)}</p>`);
  else if (e !== null) {
    if (e.causes.length === 0) out.push(`<p class="cause" id="cause">${esc(a.summary?.cause ?? 'no single dimension value carries the change')}</p>`);
    for (const c of e.causes) {
      out.push(
        `<p class="cause" id="cause"><code>${esc(c.dimension)}</code> <strong>${esc(c.value)}</strong> explains ${esc(Math.round(c.explained * 100))}% of the change ` +
          `<span class="muted">(on ${esc(Math.round(c.current_share * 100))}% of current runs, ${esc(Math.round(c.baseline_share * 100))}% before${c.first_seen ? `; first seen ${when(c.first_seen)}` : ''})</span></p>`,
      );
    }
    out.push(`<h2>${esc(e.quantity.name || 'value')}, hourly, against the baseline</h2>`);
    out.push(
      explanationChart({
        hourly: e.hourly.map((h) => ({ t: Date.parse(h.at), v: h.value })),
        baseline: e.quantity.baseline,
        current: e.quantity.current,
        onset: e.onset === null ? null : { at: Date.parse(e.onset.at), low: Date.parse(e.onset.low), high: Date.parse(e.onset.high), before: e.onset.before, after: e.onset.after },
        windowStart: Date.parse(e.window_start),
        at: Date.parse(e.at),
        format,
        title: `${e.quantity.name} per hour against its baseline${e.onset ? `, onset ${e.onset.at}` : ''}`,
      }),
    );
    out.push(
      `<p class="muted">Line: the hourly value; dashed: the baseline (${esc(format(e.quantity.baseline ?? NaN))}); shaded: the current window; red: the onset${e.onset ? ` (${when(e.onset.at)} ± ${Math.round(e.onset.uncertainty_seconds / 3600)} h, ${esc(format(e.onset.before))} → ${esc(format(e.onset.after))})` : ' (none found)'}.</p>`,
    );
    out.push(`<h2>What moved <span class="muted">(${esc(e.moved.unit)}: ${esc(format(e.moved.baseline ?? NaN))} → ${esc(format(e.moved.current ?? NaN))})</span></h2>`);
    out.push('<table class="moved"><tr><th>part</th><th>baseline</th><th>current</th><th>share of the change</th></tr>');
    for (const p of e.moved.parts.slice(0, 8)) {
      out.push(`<tr><td>${esc(p.name)}${p.status ? ` <span class="muted">(${esc(p.status)})</span>` : ''}</td><td>${esc(p.baseline === null ? 'n/a' : format(p.baseline))}</td><td>${esc(p.current === null ? 'n/a' : format(p.current))}</td><td>${p.share === null ? 'n/a' : `${Math.round(p.share * 100)}%`}</td></tr>`);
    }
    out.push('</table>');
    out.push('<h2>Runs that show it</h2>');
    if (e.examples.length === 0) out.push('<p class="muted">none</p>');
    else {
      out.push('<table class="examples"><tr><th>run</th><th>trace</th><th>at</th><th>value</th></tr>');
      for (const x of e.examples) {
        const trace = x.url ? `<a href="${esc(x.url)}" rel="noopener noreferrer">${esc(x.trace_id)}</a>` : esc(x.trace_id);
        out.push(`<tr><td><code>${esc(x.run_id)}</code></td><td>${trace}</td><td>${when(x.at)}</td><td>${esc(num(x.value))}</td></tr>`);
      }
      out.push('</table>');
      if (!e.examples.some((x) => x.url)) out.push('<p class="muted">Set <code>trace_url</code> in agentdrift.yaml to link traces.</p>');
    }
  }

  if (a.state === 'firing') {
    out.push(`<h2>Accept the new normal</h2>
<form class="box" id="accept-form" method="post" action="/api/v1/accept" data-alertname="${esc(a.alertname)}" data-labels="${esc(JSON.stringify(a.labels))}">
<p class="muted">Resolves this series now and compares it with its current value (${esc(num(a.value))}) from here on. The reason is logged and shown on the series.</p>
<p><label>Reason<br><textarea name="reason" id="accept-reason" rows="2" required maxlength="1000" placeholder="e.g. enrich-v13 calls enrich_company twice on purpose"></textarea></label></p>
<p><button type="submit" id="accept-button">Accept</button> <span class="muted">(needs JavaScript: the API takes JSON only)</span></p>
<div id="accept-result" role="status"></div>
</form>`);
  }
  return page(`${a.alertname}`, '', out.join('\n'));
}

export function rulesPage(r: ReturnType<typeof listRules>): string {
  const rows = r.rules.map(
    (x) => `<tr id="${esc(x.name)}"><td><a href="/?alertname=${esc(encodeURIComponent(x.name))}&amp;state=firing,pending,resolved,nodata,error,inactive">${esc(x.name)}</a><br><span class="muted">${esc(x.group)} · ${esc(x.signal)}</span></td>
<td>${x.state === 'unevaluated' ? '<span class="muted">not evaluated yet</span>' : stateBadge(x.state)}</td>
<td>${x.series.firing} / ${x.series.pending} / ${x.series.nodata + x.series.error} / ${x.series.inactive + x.series.resolved}</td>
<td>${when(x.last_evaluation)}</td>
<td>${x.last_duration_seconds === null ? 'n/a' : `${esc((x.last_duration_seconds * 1000).toFixed(0))} ms`}</td>
<td>${x.errors}${x.last_error ? `<br><span class="muted">${esc(x.last_error)}</span>` : ''}</td>
<td>${x.skips.timeout + x.skips.overlap + x.skips.shutdown}${x.last_skip ? `<br><span class="muted">${esc(x.last_skip.reason)} ${when(x.last_skip.at)}</span>` : ''}</td></tr>`,
  );
  return page(
    'Rules',
    '/rules',
    `<h1>Rules</h1><p class="muted">${r.rules.length} rules; evaluations, errors and skips counted since ${when(r.since)}.</p>
<table class="rules"><tr><th>rule</th><th>state</th><th>firing / pending / no data+error / resolved+inactive</th><th>last evaluation</th><th>duration</th><th>errors</th><th>skips</th></tr>${rows.join('\n')}</table>`,
  );
}

export function historyPage(h: ReturnType<typeof historyFn>, ev: ReturnType<typeof evaluationsFn>): string {
  const rows = h.entries.map(
    (e) => `<tr><td>${when(e.at)}</td><td><a href="${esc(e.url)}">${esc(e.alertname)}</a><br>${labelsHtml(e.labels)}</td><td>${stateBadge(e.from)} → ${stateBadge(e.to)}</td><td>${esc(e.reason)}</td><td>${esc(num(e.value))} <span class="muted">vs ${esc(num(e.baseline))}</span></td></tr>`,
  );
  const evRows = ev.evaluations.slice(0, 20).map(
    (g) => `<tr><td>${when(g.at)}</td><td>${esc(g.group)}</td><td>${g.ok ? 'ok' : '<strong>failed</strong>'}</td><td>${esc((g.duration_seconds * 1000).toFixed(0))} ms</td><td>${g.rules_evaluated}</td><td>${g.rules_skipped}</td><td>${g.transitions}</td></tr>`,
  );
  return page(
    'History',
    '/history',
    `<h1>State changes</h1><p class="muted">Newest first, since ${when(h.since)} (the daemon keeps the last ones in memory).</p>
${rows.length === 0 ? '<p>No state changes yet.</p>' : `<table class="history"><tr><th>at</th><th>alert</th><th>change</th><th>reason</th><th>value</th></tr>${rows.join('\n')}</table>`}
<h2>Group evaluations</h2>
<table><tr><th>at</th><th>group</th><th>result</th><th>duration</th><th>rules evaluated</th><th>skipped</th><th>transitions</th></tr>${evRows.join('\n')}</table>`,
  );
}

export function backtestPage(): string {
  return page(
    'Backtest',
    '/backtest',
    `<h1>Backtest preview</h1>
<p class="muted">Replays the loaded rules (or the rules you paste) over the last days with the daemon's engine, on an hourly step by default. Nothing is sent and no alert state changes.</p>
<form class="box" id="backtest-form" method="post" action="/api/v1/backtest">
<p><label>Days <input type="number" name="days" id="backtest-days" min="1" max="28" value="7"></label>
<label>Step <input type="text" name="step" id="backtest-step" value="1h" size="5"></label></p>
<p><label>Rules YAML (empty: the loaded rules)<br><textarea name="rules" id="backtest-rules" rows="8" placeholder="groups:&#10;  - name: try&#10;    rules: ..."></textarea></label></p>
<p><button type="submit">Run backtest</button> <span class="muted">(needs JavaScript)</span></p>
</form>
<div id="backtest-result" role="status"></div>`,
  );
}

export function notFoundPage(message: string): string {
  return page('Not found', '', `<h1>Not found</h1><p>${esc(message)}</p><p><a href="/">All alerts</a></p>`);
}

export function errorPage(message: string): string {
  return page('Error', '', `<h1>Something went wrong</h1><p class="notice err">${esc(message)}</p>`);
}
