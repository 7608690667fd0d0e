import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { validateNotifyConfig } from '../../src/notify/config.js';
import { matches, parseMatchers, type Matcher } from '../../src/notify/matchers.js';
import { routeAlert, type RouteNode } from '../../src/notify/route.js';

function routeFrom(yaml: string): RouteNode {
  const loaded = parseConfigText(yaml, 'c.yaml', {});
  const r = validateNotifyConfig(loaded.config!.receivers, loaded.config!.route, loaded.source, 'c.yaml');
  expect(r.problems).toEqual([]);
  return r.config!.route;
}

const RECEIVERS = `receivers:
  - { name: slack, slack: { webhook_url: "https://hooks.slack.com/x" } }
  - { name: email, email: { to: a@example.com, from: b@example.com, smarthost: "smtp:25" } }
  - { name: hooks, webhook: { url: "https://hooks.example.com/" } }
  - { name: am, alertmanager: { url: "http://am:9093" } }
`;

describe('matchers', () => {
  const one = (s: string): Matcher => {
    const m = parseMatchers(s);
    if (typeof m === 'string') throw new Error(m);
    expect(m).toHaveLength(1);
    return m[0]!;
  };

  it.each([
    // matcher, labels, expected
    ['severity = critical', { severity: 'critical' }, true],
    ['severity = critical', { severity: 'warning' }, false],
    ['severity="critical"', { severity: 'critical' }, true],
    ['severity != critical', { severity: 'warning' }, true],
    ['severity != critical', {}, true],
    ['team = ""', {}, true],
    ['team != ""', {}, false],
    ['workflow_id =~ invoice_.*', { workflow_id: 'invoice_enrichment' }, true],
    // Anchored: a regex matches the whole value, not a part of it.
    ['workflow_id =~ invoice', { workflow_id: 'invoice_enrichment' }, false],
    ['workflow_id =~ "a|b"', { workflow_id: 'b' }, true],
    ['workflow_id =~ "a|b"', { workflow_id: 'ab' }, false],
    ['tool !~ "search_.*"', { tool: 'search_web' }, false],
    ['tool !~ "search_.*"', { tool: 'enrich_company' }, true],
    ['summary = "say \\"hi\\", then go"', { summary: 'say "hi", then go' }, true],
  ] as const)('%s on %j -> %s', (text, labels, expected) => {
    expect(matches(one(text), labels)).toBe(expected);
  });

  it('several matchers in one string, with or without braces', () => {
    expect(parseMatchers('{severity="critical", team=~"ml|agents"}')).toMatchObject([
      { name: 'severity', op: '=', value: 'critical' },
      { name: 'team', op: '=~', value: 'ml|agents' },
    ]);
    expect(parseMatchers('a=1,b!=2,')).toMatchObject([
      { name: 'a', op: '=', value: '1' },
      { name: 'b', op: '!=', value: '2' },
    ]);
  });

  it.each([
    ['', 'empty matcher'],
    ['severity', 'expected one of =, !=, =~, !~'],
    ['1abc = x', 'expected a label name'],
    ['a = "open', 'unterminated quoted value'],
    ['a =~ "("', 'invalid regular expression'],
    ['{a = b', 'missing closing "}"'],
    ['a == b', 'unexpected "="'],
    ['a = "x" b', 'expected "," or the end'],
  ])('%j is refused (%s)', (text, message) => {
    const r = parseMatchers(text);
    expect(typeof r).toBe('string');
    expect(r).toContain(message);
  });
});

describe('routeAlert', () => {
  const route = routeFrom(`${RECEIVERS}
route:
  receivers: [slack]
  group_wait: 30s
  routes:
    - matchers: ['severity = critical']
      receivers: [email, slack]
    - matchers: ['team = data']
      receivers: [hooks]
      continue: true
      group_wait: 5s
    - matchers: ['team =~ "data|ml"']
      receivers: [am]
      repeat_interval: 1h
      send_resolved: false
      routes:
        - matchers: ['tool = "__mix__"']
          receivers: []
`);

  const table: [Record<string, string>, string[], string][] = [
    // labels, receivers (in order), why
    [{ severity: 'critical' }, ['email', 'slack'], 'critical -> email + slack'],
    [{ severity: 'warning' }, ['slack'], 'no sub-route matches -> the default'],
    [{}, ['slack'], 'no labels at all -> the default'],
    [{ severity: 'critical', team: 'data' }, ['email', 'slack'], 'first match wins; critical does not continue'],
    [{ team: 'data' }, ['hooks', 'am'], 'continue: true goes on to later siblings'],
    [{ team: 'ml' }, ['am'], 'regex sub-route'],
    [{ team: 'ml', tool: '__mix__' }, [], 'a nested route with receivers: [] drops the alert'],
  ];
  it.each(table)('%j -> %j (%s)', (labels, expected) => {
    expect(routeAlert(route, labels).map((t) => t.receiver)).toEqual(expected);
  });

  it('settings come from the route that took the alert, inherited from its parents', () => {
    expect(routeAlert(route, { team: 'data' })).toEqual([
      { receiver: 'hooks', routeId: 'root.1', groupWaitMs: 5000, repeatIntervalMs: 4 * 3600_000, sendResolved: true },
      { receiver: 'am', routeId: 'root.2', groupWaitMs: 30_000, repeatIntervalMs: 3600_000, sendResolved: false },
    ]);
    expect(routeAlert(route, { severity: 'info' })).toEqual([
      { receiver: 'slack', routeId: 'root', groupWaitMs: 30_000, repeatIntervalMs: 4 * 3600_000, sendResolved: true },
    ]);
  });

  it('a receiver reached through two routes is listed once, with the first route', () => {
    const r = routeFrom(`${RECEIVERS}
route:
  receivers: [slack]
  routes:
    - { matchers: ['a = 1'], receivers: [slack, hooks], continue: true, group_wait: 1s }
    - { matchers: ['b = 2'], receivers: [hooks, email], group_wait: 2s }
`);
    expect(routeAlert(r, { a: '1', b: '2' }).map((t) => [t.receiver, t.groupWaitMs])).toEqual([
      ['slack', 1000],
      ['hooks', 1000],
      ['email', 2000],
    ]);
  });

  it('a sub-route without receivers inherits its parent\'s', () => {
    const r = routeFrom(`${RECEIVERS}
route:
  receivers: [slack]
  routes:
    - { matchers: ['a = 1'], group_wait: 0s }
`);
    expect(routeAlert(r, { a: '1' })).toEqual([{ receiver: 'slack', routeId: 'root.0', groupWaitMs: 0, repeatIntervalMs: 4 * 3600_000, sendResolved: true }]);
  });
});
