/**
 * Which path is which: the read routes of /api/v1 (JSON) and the web UI's pages (HTML), each mapped
 * to the function in api.ts that makes its data. server.ts sends the answers, applies the guard to
 * POSTs, and turns thrown errors into the API's error shape. A page is rendered from the same call
 * its API route makes, so the two never disagree.
 */
import { alertDetail, alertsQueryOf, badRequest, evaluations, explanationOf, history, labelsOf, listAlerts, listRules, noSuchSeries, ruleDetail, type ApiSources } from './api.js';
import { CLIENT_JS } from './ui/client.js';
import { alertPage, alertsPage, backtestPage, historyPage, rulesPage } from './ui/pages.js';

export interface RouteAnswer {
  readonly status: number;
  readonly kind: 'json' | 'html' | 'js';
  readonly body: unknown;
}

const ok = (body: unknown): RouteAnswer => ({ status: 200, kind: 'json', body });
const html = (body: string, status = 200): RouteAnswer => ({ status, kind: 'html', body });

/** The part of `path` after `prefix` as one decoded name, or null when `path` is not under `prefix`. */
function nameAfter(path: string, prefix: string): string | null {
  if (!path.startsWith(prefix) || path.length === prefix.length) return null;
  const raw = path.slice(prefix.length);
  if (raw.includes('/')) throw noSuchSeries(`no such path: ${path.slice(0, 200)}`);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw badRequest(`the name in ${JSON.stringify(path.slice(0, 200))} is not valid percent-encoding`);
  }
}

/** GET routes of /api/v1; null when the path is none of them. */
export async function apiGet(src: ApiSources, path: string, q: URLSearchParams): Promise<RouteAnswer | null> {
  if (path === '/api/v1/alerts') return ok(listAlerts(src, alertsQueryOf(q)));
  if (path === '/api/v1/rules') return ok(listRules(src));
  if (path === '/api/v1/history') return ok(history(src, q));
  if (path === '/api/v1/evaluations') return ok(evaluations(src, q));
  const alert = nameAfter(path, '/api/v1/alerts/');
  if (alert !== null) return ok(alertDetail(src, alert, labelsOf(q)));
  const explained = nameAfter(path, '/api/v1/explanations/');
  if (explained !== null) return ok(await explanationOf(src, explained, labelsOf(q)));
  const rule = nameAfter(path, '/api/v1/rules/');
  if (rule !== null) return ok(ruleDetail(src, rule));
  return null;
}

/** Whether a GET of `path` is a page of the web UI (or its script). */
export function isUiPath(path: string): boolean {
  return path === '/' || path === '/rules' || path === '/history' || path === '/backtest' || path === '/ui/app.js' || path.startsWith('/alerts/');
}

/** The web UI's pages: each the rendering of what the matching API route returns. */
export async function uiGet(src: ApiSources, path: string, q: URLSearchParams): Promise<RouteAnswer> {
  if (path === '/ui/app.js') return { status: 200, kind: 'js', body: CLIENT_JS };
  if (path === '/') return html(alertsPage(listAlerts(src, alertsQueryOf(q)), q));
  if (path === '/rules') return html(rulesPage(listRules(src)));
  if (path === '/history') return html(historyPage(history(src, q), evaluations(src, new URLSearchParams({ limit: '20' }))));
  if (path === '/backtest') return html(backtestPage());
  const alert = nameAfter(path, '/alerts/');
  if (alert === null) throw noSuchSeries('name an alert: /alerts/<alertname>?<labels>');
  const detail = alertDetail(src, alert, labelsOf(q));
  // The explanation queries ClickHouse: if they fail, the page still shows the series and says why.
  let explanation = null;
  let explainError: string | null = null;
  try {
    explanation = await explanationOf(src, alert, labelsOf(q));
  } catch (err) {
    explainError = (err as Error).message ?? String(err);
  }
  return html(alertPage(detail, explanation, explainError));
}
