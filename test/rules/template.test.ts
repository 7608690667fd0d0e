import { describe, expect, it } from 'vitest';
import { checkTemplate, renderTemplate, type TemplateData } from '../../src/rules/template.js';
import { humanize, usd } from '../../src/util/format.js';

const data: TemplateData = {
  labels: { workflow_id: 'invoice', tool: 'enrich' },
  value: 0.8,
  current: 1234.5678,
  baseline: 0.00421,
  runs: 1500,
  baselineRuns: 1400,
  pValue: null,
};

describe('renderTemplate', () => {
  it.each([
    ['{{ $labels.workflow_id }}', 'invoice'],
    ['{{$labels.tool}}/{{ $labels.missing }}/', 'enrich//'],
    ['{{ $value | percent }}', '+80.0%'],
    ['{{ $value }}', '0.8'],
    ['{{ $current | humanize }}', '1.23k'],
    ['{{ $baseline | usd }}', '$0.00421'],
    ['{{ $current | usd }}', '$1,234.57'],
    ['{{ $runs }} vs {{ $baseline_runs }}', '1500 vs 1400'],
    ['{{ $p_value }}', 'n/a'],
    ['{{ $p_value | printf "%.3f" }}', 'n/a'],
    ['{{ $p_value | percent }}', 'n/a'],
    ['{{ $current | printf "%.2f" }}', '1234.57'],
    ['{{ $current | printf "%8.1f|" }}', '  1234.6|'],
    ['{{ $current | printf "%-8.1f|" }}', '1234.6  |'],
    ['{{ $runs | printf "%06d" }}', '001500'],
    ['{{ $value | printf "%+.1f" }}', '+0.8'],
    ['{{ $current | printf "%e" }}', '1.234568e+03'],
    ['{{ $value | printf "%g" }}', '0.8'],
    ['{{ $value | printf "%d%%" }}', '1%'],
    ['{{ $labels.tool | printf "tool=%q" }}', 'tool="enrich"'],
    ['{{ $value | percent | printf "[%s]" }}', '[+80.0%]'],
    ['no actions, {single} braces', 'no actions, {single} braces'],
    ['{{ $labels.workflow_id }}: {{ $labels.tool }} calls per run {{ $value | percent }} vs baseline', 'invoice: enrich calls per run +80.0% vs baseline'],
  ])('%s', (text, expected) => {
    expect(checkTemplate(text)).toBeNull();
    expect(renderTemplate(text, data)).toBe(expected);
  });

  it('renders non-finite numbers as Prometheus does', () => {
    const d = { ...data, value: Number.POSITIVE_INFINITY, current: Number.NaN };
    expect(renderTemplate('{{ $value }} {{ $value | percent }} {{ $current | humanize }}', d)).toBe('+Inf +Inf% NaN');
  });

  it('renders an invalid template as a marker instead of throwing', () => {
    expect(renderTemplate('{{ $nope }}', data)).toMatch(/^<error expanding template: unknown variable \$nope/);
  });
});

describe('formatters', () => {
  it.each([
    [0.8, '+80.0%'],
    [-0.25, '-25.0%'],
    [0, '0.0%'],
    [-0.0001, '0.0%'],
    [1.5, '+150.0%'],
  ])('percent %d -> %s', (x, s) => {
    expect(renderTemplate('{{ $value | percent }}', { ...data, value: x })).toBe(s);
  });

  it.each([
    [0, '0'],
    [0.5, '0.5'],
    [12.345, '12.3'],
    [999, '999'],
    [999.7, '1k'],
    [1000, '1k'],
    [1234, '1.23k'],
    [1_234_567, '1.23M'],
    [2.5e9, '2.5G'],
    [-1234, '-1.23k'],
    [null, 'n/a'],
  ])('humanize %d -> %s', (x, s) => {
    expect(humanize(x)).toBe(s);
  });

  it.each([
    [1.23, '$1.23'],
    [0, '$0.00'],
    [1234567.891, '$1,234,567.89'],
    [0.004214, '$0.00421'],
    [-2.5, '-$2.50'],
    [null, 'n/a'],
  ])('usd %d -> %s', (x, s) => {
    expect(usd(x)).toBe(s);
  });
});

describe('checkTemplate', () => {
  it.each([
    ['{{ $foo }}', /unknown variable \$foo/],
    ['{{ $labels }}', /use \$labels.<name>/],
    ['{{ $labels.bad-name }}', /unexpected "-"/],
    ['{{ $value | round }}', /unknown function "round"/],
    ['{{ $value | }}', /missing function after "\|"/],
    ['{{ $value', /unbalanced braces: "\{\{" at offset 0 is never closed/],
    ['oops }} here', /unbalanced braces: "\}\}" without "\{\{"/],
    ['{{ {{ $value }} }}', /unbalanced braces/],
    ['{{ }}', /empty action/],
    ['{{ percent $value }}', /must start with a variable/],
    ['{{ $labels.tool | percent }}', /percent needs a number, got a string/],
    ['{{ $value | percent | usd }}', /usd needs a number, got a string/],
    ['{{ $value | printf }}', /printf needs a quoted format/],
    ['{{ $value | printf "%.2f %.2f" }}', /exactly once, got 2 verbs/],
    ['{{ $value | printf "no verb" }}', /exactly once, got 0 verbs/],
    ['{{ $value | printf "%y" }}', /bad verb "%y"/],
    ['{{ $labels.tool | printf "%.2f" }}', /printf %f needs a number, got a string/],
    ['{{ $value | printf "%.2f }}', /unterminated string/],
    ['{{ $value $runs }}', /expected "\|"/],
  ])('%s', (text, error) => {
    expect(checkTemplate(text)).toMatch(error);
  });
});
