/**
 * The explanation in every notification: Slack, email (text and HTML), the webhook's evidence and
 * Alertmanager's annotations say since when, what moved, which change caused it and which runs show
 * it, escaped for their medium and within its size limits; a hostile trace link never becomes one.
 */
import { describe, expect, it } from 'vitest';
import type { ExplanationSummary } from '../../src/explain/types.js';
import { postableAlert } from '../../src/notify/alertmanager.js';
import { emailMessage } from '../../src/notify/email.js';
import { alertFacts } from '../../src/notify/format.js';
import { slackPayload } from '../../src/notify/slack.js';
import { webhookPayload } from '../../src/notify/webhook.js';
import { alert } from '../helpers/alerts.js';

const EXPLANATION: ExplanationSummary = {
  onset: 'started 2026-11-17 09:00 UTC ± 1 h (Tuesday)',
  moved: 'enrich_company 1.1 → 1.74 (+0.639, 100% of the change)',
  cause: 'prompt_version enrich-v13 explains 100% of the change (on 71% of current runs, 0% before; first seen 2026-11-17 09:00 UTC, 18 seconds after the onset)',
  examples: [
    { runId: 'run-14706d4284f7cd45', traceId: 'e4cbcaa6980c1c86cdace704d68f8fc3', url: 'https://tempo.example.com/trace/e4cbcaa6980c1c86cdace704d68f8fc3' },
    { runId: 'run-3907c6fcecb5d567', traceId: 'ba7ccb08280782689550047b0d5efcef' },
  ],
};

const explained = alert({ evidence: { explanation: EXPLANATION, exampleRunIds: EXPLANATION.examples.map((x) => x.runId) } });

describe('explanations in notifications', () => {
  it('facts: one bounded line per part; only http(s) links survive', () => {
    const f = alertFacts(explained);
    expect(f.onset).toBe(EXPLANATION.onset);
    expect(f.whatMoved).toBe(EXPLANATION.moved);
    expect(f.cause).toBe(EXPLANATION.cause);
    expect(f.examples[0]!.url).toBe(EXPLANATION.examples[0]!.url);
    expect(f.examples[1]!.url).toBeNull();
    const hostile = alertFacts(alert({ evidence: { explanation: { ...EXPLANATION, cause: `x\n${'y'.repeat(5000)}`, examples: [{ runId: 'r', traceId: 't', url: 'javascript:alert(1)' }] } } }));
    expect(hostile.cause!.length).toBeLessThanOrEqual(600);
    expect(hostile.cause).not.toContain('\n');
    expect(hostile.examples[0]!.url).toBeNull();
    // Without an explanation nothing changes.
    expect(alertFacts(alert()).onset).toBeNull();
  });

  it('Slack: a section with since / what moved / cause, and run ids linked to the trace UI', () => {
    const p = slackPayload([explained], null) as { blocks: { type: string; text?: { text: string } }[] };
    const texts = p.blocks.map((b) => b.text?.text ?? '').join('\n');
    expect(texts).toContain('*Since* started 2026-11-17 09:00 UTC ± 1 h (Tuesday)');
    expect(texts).toContain('*Cause* prompt_version enrich-v13 explains 100% of the change');
    expect(texts).toContain('<https://tempo.example.com/trace/e4cbcaa6980c1c86cdace704d68f8fc3|run-14706d4284f7cd45>');
    expect(texts).toContain('`run-3907c6fcecb5d567`');
    for (const b of p.blocks) if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
    const injected = slackPayload([alert({ evidence: { explanation: { ...EXPLANATION, cause: '<!channel> @here <http://evil|x>' } } })], null);
    expect(JSON.stringify(injected)).not.toContain('<!channel>');
    expect(JSON.stringify(injected)).not.toContain('<http://evil');
  });

  it('email: the same lines in text and HTML, escaped, with links', () => {
    const m = emailMessage([explained]);
    expect(m.text).toContain(`Since: ${EXPLANATION.onset}`);
    expect(m.text).toContain(`Cause: ${EXPLANATION.cause}`);
    expect(m.text).toContain('run-14706d4284f7cd45 (trace e4cbcaa6980c1c86cdace704d68f8fc3) https://tempo.example.com/trace/');
    expect(m.html).toContain('<b>Cause:</b> prompt_version enrich-v13');
    expect(m.html).toContain('<a href="https://tempo.example.com/trace/e4cbcaa6980c1c86cdace704d68f8fc3">run-14706d4284f7cd45</a>');
    const x = emailMessage([alert({ evidence: { explanation: { ...EXPLANATION, moved: '<script>alert(1)</script>' } } })]);
    expect(x.html).not.toContain('<script>');
  });

  it('webhook: the explanation travels in the agentdrift evidence', () => {
    const p = webhookPayload('hook', [explained], { maxAlerts: 0, externalURL: '' });
    expect(p.alerts[0]!.agentdrift.explanation).toEqual(EXPLANATION);
  });

  it("Alertmanager: annotations agentdrift_onset, _moved, _cause and _trace_ids, unless the rule set them", () => {
    const a = postableAlert(explained, Date.parse('2026-11-22T03:00:00Z'), 60_000);
    expect(a.annotations.agentdrift_onset).toBe(EXPLANATION.onset);
    expect(a.annotations.agentdrift_moved).toBe(EXPLANATION.moved);
    expect(a.annotations.agentdrift_cause).toBe(EXPLANATION.cause);
    expect(a.annotations.agentdrift_trace_ids).toBe('e4cbcaa6980c1c86cdace704d68f8fc3, ba7ccb08280782689550047b0d5efcef');
    expect(a.annotations.agentdrift_example_runs).toBe('run-14706d4284f7cd45, run-3907c6fcecb5d567');
    const own = postableAlert(alert({ annotations: { agentdrift_cause: 'mine' }, evidence: { explanation: EXPLANATION } }), 0, 60_000);
    expect(own.annotations.agentdrift_cause).toBe('mine');
    expect(postableAlert(alert(), 0, 60_000).annotations.agentdrift_onset).toBeUndefined();
  });
});
