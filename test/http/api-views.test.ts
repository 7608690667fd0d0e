/**
 * The API's views without a daemon: the alerts list with many series (inactive left out, one page,
 * fast), "recently resolved", escaping on the pages, the backtest timeline, and the activity log's
 * bounds.
 */
import { describe, expect, it } from 'vitest';
import type { AlertSeries } from '../../src/alerting/state.js';
import { seriesId, type AlertState } from '../../src/alerting/types.js';
import { ActivityLog, HISTORY_LIMIT, VALUES_PER_SERIES } from '../../src/engine/activity.js';
import type { RuleEvaluation, TransitionEvent } from '../../src/engine/types.js';
import { alertsQueryOf, listAlerts, type ApiSources } from '../../src/http/api.js';
import { timelineOf } from '../../src/http/backtestHandler.js';
import { uiGet } from '../../src/http/routes.js';
import { alertsPage } from '../../src/http/ui/pages.js';
import type { Rule } from '../../src/rules/types.js';

const NOW = Date.parse('2026-11-22T03:00:00Z');
const HOUR = 3_600_000;

const rule = (alert: string, severity = 'warning') => ({ alert, signal: 'tool_calls_per_run', threshold: 0.2, labels: { severity }, pos: { file: 'r.yaml', line: 1, col: 1 } }) as unknown as Rule;

function series(alert: string, labels: Record<string, string>, state: AlertState, o: { resolvedAt?: number; activeAt?: number } = {}): AlertSeries {
  return {
    id: seriesId(alert, labels),
    alert,
    key: '',
    labels,
    measured: true,
    record: { state, activeAt: o.activeAt ?? null, firedAt: state === 'firing' ? NOW - HOUR : null, resolvedAt: o.resolvedAt ?? null, lastEvalAt: NOW, health: 'ok', lastError: null },
    evidence: { current: 2, baseline: 1, deviation: 1, isNew: false, currentRuns: 500, baselineRuns: 500, contributors: [], exampleRunIds: [], pValue: 0.001 },
  };
}

function sources(all: AlertSeries[], rules: Rule[]): ApiSources {
  const states = new Map(all.map((s) => [s.id, s]));
  return {
    alertStates: () => states,
    rules: () => new Map(rules.map((r) => [r.alert, r])),
    ruleSet: () => null,
    activity: new ActivityLog(NOW - HOUR),
    explain: () => Promise.reject(new Error('not here')),
    backtest: () => Promise.reject(new Error('not here')),
    now: () => NOW,
  };
}

describe('GET /api/v1/alerts over many series', () => {
  const all: AlertSeries[] = [];
  for (let i = 0; i < 20_000; i++) all.push(series('Quiet', { workflow_id: `w${i}` }, 'inactive'));
  all.push(series('Loud', { workflow_id: 'a' }, 'firing', { activeAt: NOW - 2 * HOUR }));
  all.push(series('Page', { workflow_id: 'b' }, 'firing', { activeAt: NOW - HOUR }));
  all.push(series('Loud', { workflow_id: 'c' }, 'pending', { activeAt: NOW - HOUR }));
  all.push(series('Loud', { workflow_id: 'd' }, 'inactive', { resolvedAt: NOW - 2 * HOUR }));
  all.push(series('Loud', { workflow_id: 'e' }, 'inactive', { resolvedAt: NOW - 30 * HOUR }));
  const src = sources(all, [rule('Quiet'), rule('Loud'), rule('Page', 'critical')]);

  it('lists firing, pending and recently resolved series, critical first, and counts the inactive ones', () => {
    const started = performance.now();
    const r = listAlerts(src, alertsQueryOf(new URLSearchParams()));
    expect(performance.now() - started).toBeLessThan(500);
    expect(r.alerts.map((a) => `${a.alertname}/${a.labels.workflow_id}/${a.state}`)).toEqual(['Page/b/firing', 'Loud/a/firing', 'Loud/c/pending', 'Loud/d/resolved']);
    expect(r.counts).toMatchObject({ firing: 2, pending: 1, resolved: 1, inactive: 20_001 });
    expect(r.alerts[0]!.fired_at).toBe('2026-11-22T02:00:00.000Z');
  });

  it('renders the page without the inactive series, and pages through them on request', () => {
    const html = alertsPage(listAlerts(src, alertsQueryOf(new URLSearchParams())), new URLSearchParams());
    expect(html.length).toBeLessThan(40_000);
    expect(html).toContain('20001 inactive series are not listed');
    const q = new URLSearchParams('state=inactive&offset=100');
    const page = listAlerts(src, alertsQueryOf(q));
    expect(page.alerts).toHaveLength(100);
    expect(alertsPage(page, q)).toContain('href="?state=inactive&amp;offset=200"');
  });

  it('escapes labels on the page', () => {
    const evil = sources([series('Loud', { workflow_id: '<script>alert(1)</script>"' }, 'firing')], [rule('Loud')]);
    const html = alertsPage(listAlerts(evil, alertsQueryOf(new URLSearchParams())), new URLSearchParams());
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;');
  });
});

describe('the alert page route', () => {
  it('answers 404 for /alerts/ without a name and for an unknown rule', async () => {
    const src = sources([], [rule('Loud')]);
    await expect(uiGet(src, '/alerts/', new URLSearchParams())).rejects.toMatchObject({ errorCode: 'AGENTDRIFT_ERR_NO_SUCH_SERIES' });
    await expect(uiGet(src, '/alerts/Nope', new URLSearchParams())).rejects.toMatchObject({ errorCode: 'AGENTDRIFT_ERR_UNKNOWN_RULE' });
  });
});

describe('the backtest timeline', () => {
  it('turns transitions into pending and firing stretches per series, open ones ending at `to`', () => {
    const t = (at: string, from: string, to: string, labels = { workflow_id: 'w' }) => ({ at, rule: 'R', signal: 's', labels, from, to, reason: '', current: null, baseline: null, deviation: null, p_value: null });
    const rows = timelineOf({
      from: '2026-11-20T00:00:00.000Z',
      to: '2026-11-22T00:00:00.000Z',
      evaluations: 10,
      summary: [],
      transitions: [
        t('2026-11-20T01:00:00.000Z', 'inactive', 'pending'),
        t('2026-11-20T02:00:00.000Z', 'pending', 'firing'),
        t('2026-11-20T05:00:00.000Z', 'firing', 'resolved'),
        t('2026-11-21T01:00:00.000Z', 'inactive', 'pending', { workflow_id: 'x' }),
      ],
    });
    expect(rows).toEqual([
      {
        alertname: 'R',
        labels: { workflow_id: 'w' },
        spans: [
          { state: 'pending', from: '2026-11-20T01:00:00.000Z', to: '2026-11-20T02:00:00.000Z' },
          { state: 'firing', from: '2026-11-20T02:00:00.000Z', to: '2026-11-20T05:00:00.000Z' },
        ],
      },
      { alertname: 'R', labels: { workflow_id: 'x' }, spans: [{ state: 'pending', from: '2026-11-21T01:00:00.000Z', to: '2026-11-22T00:00:00.000Z' }] },
    ]);
  });
});

describe('ActivityLog', () => {
  it('keeps the latest transitions and values only, newest first', () => {
    const log = new ActivityLog(0);
    const s = series('R', { workflow_id: 'w' }, 'firing');
    for (let i = 0; i < HISTORY_LIMIT * 2; i++) {
      log.transitions([{ rule: rule('R'), series: s, transition: { from: 'pending', to: 'firing', at: i, reason: 'r' } } as TransitionEvent]);
    }
    const recent = log.recent();
    expect(recent).toHaveLength(HISTORY_LIMIT);
    expect(recent[0]!.at).toBe(HISTORY_LIMIT * 2 - 1);
    expect(recent[0]!.seq).toBe(HISTORY_LIMIT * 2);

    for (let i = 0; i < VALUES_PER_SERIES * 3; i++) {
      const ev = { rule: rule('R'), at: i, windows: [], error: i % 2 === 0 ? null : 'boom', durationMs: 5, series: [{ labels: { workflow_id: 'w' }, current: i, baseline: 1 }] } as unknown as RuleEvaluation;
      log.record.rule(ev);
    }
    const values = log.valuesOf(s.id);
    expect(values).toHaveLength(VALUES_PER_SERIES);
    expect(values.at(-1)!.value).toBe(VALUES_PER_SERIES * 3 - 1);
    expect(log.rule('R')).toMatchObject({ evaluations: VALUES_PER_SERIES * 3, errors: (VALUES_PER_SERIES * 3) / 2, lastError: 'boom', lastDurationMs: 5 });
  });
});
