/**
 * `trace_url` in agentdrift.yaml: a template such as `https://tempo.example.com/trace/{trace_id}` that
 * turns a run's trace id (and run id) into a link to the user's trace UI. The ids are URL-encoded, so
 * a hostile id cannot change the link's host or path; only http(s) templates are accepted.
 */
export const TRACE_URL_PLACEHOLDERS = ['{trace_id}', '{run_id}'] as const;

/** Problems with a template, or null when it is usable. */
export function traceUrlProblem(template: string): string | null {
  if (!template.includes('{trace_id}') && !template.includes('{run_id}')) return 'trace_url must contain {trace_id} or {run_id}';
  try {
    const u = new URL(template.replace(/\{(trace_id|run_id)\}/g, 'x'));
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'trace_url must be an http(s) URL';
  } catch {
    return `trace_url is not a URL: ${JSON.stringify(template).slice(0, 80)}`;
  }
  return null;
}

export function traceLink(template: string | null | undefined): ((traceId: string, runId?: string) => string | null) | null {
  if (!template) return null;
  return (traceId, runId = '') => (traceId === '' && template.includes('{trace_id}') ? null : template.replace(/\{trace_id\}/g, encodeURIComponent(traceId)).replace(/\{run_id\}/g, encodeURIComponent(runId)));
}
