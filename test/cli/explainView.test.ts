/** What explain says first (src/report/explainView.ts), its JSON, and how the text reads (src/explain/format.ts). */
import { describe, expect, it } from 'vitest';
import { explanationFromJson, explanationJson, notFiringLine, type RuleTerms, type SeriesStatus } from '../../src/report/explainView.js';
import { formatExplanation, sharePct, shownShare } from '../../src/explain/format.js';
import type { Explanation } from '../../src/explain/types.js';

const up: RuleTerms = { threshold: 0.2, direction: 'up', significance: 0.01, forMs: 30 * 60_000 };
const both: RuleTerms = { ...up, direction: 'both', threshold: 0.25 };
const down: RuleTerms = { ...up, direction: 'down' };
const status = (s: Partial<SeriesStatus>): SeriesStatus => ({ state: 'inactive', deviation: -0.003, deviationKind: 'relative', isNew: false, pValue: 0.9, reason: null, ...s });

describe('notFiringLine', () => {
  it.each([
    ['firing', up, status({ state: 'firing', deviation: 0.7 }), null],
    ['inactive, under an up threshold', up, status({}), 'not firing: inactive, deviation -0.3% is under the threshold +20%'],
    ['inactive, within a both threshold', both, status({ deviation: -0.09 }), 'not firing: inactive, deviation -9.0% is within the threshold ±25%'],
    ['inactive, above a down threshold', down, status({ deviation: 0.05 }), 'not firing: inactive, deviation +5.0% is above the threshold -20%'],
    ['inactive, a distance', up, status({ deviationKind: 'js_distance', deviation: 0.05 }), 'not firing: inactive, distance JSD 0.05 is under the threshold JSD 0.2'],
    ['inactive, not significant', up, status({ deviation: 0.3, pValue: 0.2 }), 'not firing: inactive, deviation +30.0% passes the threshold +20%, but p = 0.2 is not under the significance 0.01'],
    ['pending', up, status({ state: 'pending', deviation: 0.3, pValue: 1e-9 }), 'not firing yet: pending, deviation +30.0% passes the threshold +20%; it fires once that has held for 30m'],
    ['nodata', up, status({ state: 'nodata', deviation: null, reason: 'too few runs' }), 'not firing: nodata, too few runs'],
    ['no deviation', up, status({ deviation: null }), 'not firing: inactive, no deviation to compare with the threshold +20%'],
  ] as [string, RuleTerms, SeriesStatus, string | null][])('%s', (_name, rule, s, want) => {
    expect(notFiringLine(rule, s)).toBe(want);
  });
});

describe('shares of the change', () => {
  const parts = (...cs: number[]) => cs.map((contribution) => ({ contribution }));
  it.each([
    // Parts in opposite directions: no share over 100% or below 0, and they add up to 100%.
    [parts(0.639, -0.000115, -0.000115), ['>99%', '<1%', '<1%']],
    [parts(0.0248, 0.00214, -0.000144), ['92%', '8%', '1%']],
    [parts(3, -1), ['75%', '25%']],
    [parts(1, 0), ['100%', '0%']],
    [parts(0, 0), ['n/a', 'n/a']],
  ])('%j', (ps, want) => {
    expect(ps.map((p) => sharePct(shownShare(p, ps)))).toEqual(want);
    const sum = ps.reduce((a, p) => a + (shownShare(p, ps) ?? 0), 0);
    if (ps.some((p) => p.contribution !== 0)) expect(sum).toBeCloseTo(1, 12);
  });
});

const H = 3_600_000;
const AT = Date.parse('2026-11-22T03:00:00Z');
const ONSET = Date.parse('2026-11-17T09:00:00Z');
function explanation(low: number, high: number): Explanation {
  return {
    rule: 'ToolCallsPerRunUp',
    signal: 'tool_calls_per_run',
    labels: { workflow_id: 'invoice_enrichment', tool: 'enrich_company' },
    key: 'enrich_company',
    at: AT,
    windowStart: AT - 7 * 24 * H,
    quantity: { name: 'enrich_company calls per run', baseline: 1.1, current: 1.79 },
    onset: { at: ONSET, uncertaintyMs: H, low, high, before: 1.1, after: 2, hours: 336 },
    moved: {
      kind: 'tool_calls',
      unit: 'calls per run',
      baseline: 3.1,
      current: 3.79,
      change: 0.69,
      parts: [
        { name: 'enrich_company', baseline: 1.1, current: 1.79, contribution: 0.7, share: 1.01 },
        { name: 'crm_lookup', baseline: 1, current: 0.99, contribution: -0.01, share: -0.01 },
      ],
    },
    attribution: { causes: [{ dimension: 'prompt_version', value: 'enrich-v13', explained: 1, currentShare: 0.7, baselineShare: 0, firstSeen: ONSET + 18_000, appeared: true, leadMs: -18_000 }], dimensions: [] },
    examples: [{ runId: 'run-1', traceId: 'a'.repeat(32), timestamp: ONSET + 3 * H, value: 2 }],
  };
}

describe('formatExplanation', () => {
  it('an interval of zero width is not printed beside the ± of the onset; a wider one is', () => {
    const zero = formatExplanation(explanation(ONSET, ONSET));
    expect(zero).toMatch(/^ {2}started 2026-11-17 09:00 UTC ± 1 h \(Tuesday\)$/m);
    expect(zero).toMatch(/^ {2}hourly value 1\.1 before, 2 after \(336 hours fitted\)$/m);
    expect(zero).not.toMatch(/90% interval/);
    expect(formatExplanation(explanation(ONSET, ONSET + H))).toMatch(/; 90% interval 2026-11-17 09:00 UTC to 2026-11-17 10:00 UTC \(336 hours fitted\)$/m);
  });

  it('names the total the parts add up to, so it does not read as the headline\'s value', () => {
    const text = formatExplanation(explanation(ONSET, ONSET));
    expect(text).toMatch(/^enrich_company calls per run: 1\.1 → 1\.79 /m);
    expect(text).toMatch(/^What moved \(calls per run over all tools 3\.1 → 3\.79, by tool\)$/m);
    expect(text).toMatch(/^ {2}enrich_company 1\.1 → 1\.79 \(\+0\.7, 99% of the change\)$/m);
    expect(text).toMatch(/^ {2}crm_lookup 1 → 0\.99 \(-0\.01, 1% of the change\)$/m);
  });
});

describe('explanationJson', () => {
  it('has ISO times everywhere, no epoch milliseconds', () => {
    const json = explanationJson(explanation(ONSET, ONSET + H), { state: 'firing', deviation: 0.6, deviationKind: 'relative', isNew: false, pValue: 0, reason: null });
    const text = JSON.stringify(json);
    expect(text).not.toMatch(/[:,[]-?\d{12,}[,}\]]/); // an integer of 12 digits or more: epoch milliseconds
    expect(json).toMatchObject({
      state: 'firing',
      at: '2026-11-22T03:00:00.000Z',
      windowStart: '2026-11-15T03:00:00.000Z',
      onset: { at: '2026-11-17T09:00:00.000Z', low: '2026-11-17T09:00:00.000Z', high: '2026-11-17T10:00:00.000Z', uncertaintyMs: H },
      attribution: { causes: [{ firstSeen: '2026-11-17T09:00:18.000Z', leadMs: -18_000 }] },
      examples: [{ timestamp: '2026-11-17T12:00:00.000Z' }],
    });
    const shares = (json.moved as { parts: { share: number }[] }).parts.map((p) => p.share);
    expect(shares[0]).toBeCloseTo(0.7 / 0.71, 12);
    expect(shares.every((s) => s >= 0 && s <= 1)).toBe(true);
  });
});

describe('explanationFromJson (how a command prints the text of an explanation the daemon sent)', () => {
  it('gives back every time of the explanation: the text reads the same from the JSON view', () => {
    for (const e of [explanation(ONSET, ONSET + H), { ...explanation(ONSET, ONSET), onset: null }]) {
      const view = JSON.parse(JSON.stringify(explanationJson(e, status({ state: 'firing' })))) as Record<string, unknown>;
      const back = explanationFromJson(view);
      expect(formatExplanation(back)).toBe(formatExplanation(e));
      expect(back).toMatchObject({ at: e.at, windowStart: e.windowStart, onset: e.onset, examples: e.examples });
      expect(back.attribution.causes[0]!.firstSeen).toBe(e.attribution.causes[0]!.firstSeen);
      expect(back).not.toHaveProperty('state');
    }
  });
});
