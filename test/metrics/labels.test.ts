/** Label values of per-series metrics are bounded: long values are cut with a hash suffix, never merged. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { boundLabelValue, MAX_LABEL_VALUE_CHARS, SERIES_LABEL_NAMES, seriesLabels } from '../../src/metrics/labels.js';

const sha8 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 8);
const chars = (s: string) => Array.from(s).length;

describe('boundLabelValue', () => {
  const at = 'a'.repeat(MAX_LABEL_VALUE_CHARS);
  const over = 'a'.repeat(MAX_LABEL_VALUE_CHARS + 1);
  const huge = `invoice_${'x'.repeat(100_280)}`;

  it.each([
    ['empty', '', ''],
    ['short', 'invoice_enrichment', 'invoice_enrichment'],
    ['exactly the limit', at, at],
    ['one over the limit', over, `${'a'.repeat(119)}~${sha8(over)}`],
    ['100,288 characters', huge, `invoice_${'x'.repeat(111)}~${sha8(huge)}`],
  ])('%s', (_name, input, expected) => {
    expect(boundLabelValue(input)).toBe(expected);
    expect(chars(boundLabelValue(input))).toBeLessThanOrEqual(MAX_LABEL_VALUE_CHARS);
  });

  it('keeps two long values that share their first 119 characters apart', () => {
    const prefix = 'w'.repeat(200);
    const a = boundLabelValue(`${prefix}-a`);
    const b = boundLabelValue(`${prefix}-b`);
    expect(a).not.toBe(b);
    expect(a.slice(0, 119)).toBe(b.slice(0, 119));
    expect(boundLabelValue(`${prefix}-a`)).toBe(a); // same value, same label: the series is stable
  });

  it('counts characters, not UTF-16 units, and never splits a surrogate pair', () => {
    const emoji = '🚀'.repeat(MAX_LABEL_VALUE_CHARS); // 128 characters, 256 UTF-16 units
    expect(boundLabelValue(emoji)).toBe(emoji);
    const more = `${emoji}🚀`;
    const cut = boundLabelValue(more);
    expect(chars(cut)).toBe(MAX_LABEL_VALUE_CHARS);
    expect(cut).toBe(`${'🚀'.repeat(119)}~${sha8(more)}`);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/); // no lone surrogate
  });
});

describe('seriesLabels', () => {
  it('bounds every label value it exports', () => {
    const long = (name: string) => `${name}-${'z'.repeat(500)}`;
    const group = { ...Object.fromEntries(SERIES_LABEL_NAMES.map((n) => [n, long(n)])), attributes_tier: 'z'.repeat(500) };
    const labels = seriesLabels({ rule: long('rule'), signal: 'tool_calls_per_run', severity: long('severity') }, group, long('key'));
    expect(Object.keys(labels).sort()).toEqual([...SERIES_LABEL_NAMES].sort());
    for (const n of SERIES_LABEL_NAMES) {
      expect(chars(labels[n]), n).toBeLessThanOrEqual(MAX_LABEL_VALUE_CHARS);
      if (n === 'attributes') expect(labels[n], n).toBe(boundLabelValue(`tier=${'z'.repeat(500)}`));
      else if (n !== 'signal') expect(labels[n], n).toBe(boundLabelValue(long(n)));
    }
  });

  it('leaves ordinary values untouched and fills missing dimensions with empty strings', () => {
    const labels = seriesLabels({ rule: 'ToolCallsPerRunUp', signal: 'tool_calls_per_run', severity: 'warning' }, { workflow_id: 'invoice_enrichment' }, 'enrich_company');
    expect(labels).toMatchObject({ rule: 'ToolCallsPerRunUp', key: 'enrich_company', workflow_id: 'invoice_enrichment', agent_id: '', attributes: '', severity: 'warning' });
  });

  it('puts custom dimensions (attributes_KEY group labels) in one attributes label, keys sorted', () => {
    const labels = seriesLabels({ rule: 'R', signal: 'metric', severity: '' }, { workflow_id: 'w', attributes_region: 'eu', attributes_customer_tier: 'gold' }, 'records');
    expect(labels.attributes).toBe('customer_tier=gold,region=eu');
    expect(labels.workflow_id).toBe('w');
  });
});
