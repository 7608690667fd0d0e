import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { validateNotifyConfig, type NotifyConfig } from '../../src/notify/config.js';
import { formatProblem } from '../../src/yaml/problem.js';

const ENV = {
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/slacksecretXYZ123',
  SMTP_USER: 'agentdrift',
  SMTP_PASSWORD: 'smtp-pa55word-secret',
  HOOK_TOKEN: 'hooktoken-secret-987',
};

const FULL = `receivers:
  - name: slack-agents
    slack: { webhook_url: "\${SLACK_WEBHOOK_URL}", channel: "#agent-alerts" }
  - name: oncall-email
    email:
      to: ["oncall@example.com"]
      from: "agentdrift@example.com"
      smarthost: "smtp.example.com:587"
      tls: starttls
      auth_username: "\${SMTP_USER}"
      auth_password: "\${SMTP_PASSWORD}"
  - name: hooks
    webhook: { url: "https://hooks.example.com/agentdrift", headers: { Authorization: "Bearer \${HOOK_TOKEN}" }, max_alerts: 0 }
  - name: am
    alertmanager: { url: "http://alertmanager:9093", resend_interval: 1m }
route:
  receivers: [slack-agents]
  group_wait: 30s
  repeat_interval: 4h
  send_resolved: true
  routes:
    - matchers: ['severity = critical']
      receivers: [oncall-email, slack-agents]
      continue: false
`;

/** Through the real config loader, as the daemon does: env substitution, then this layer. */
function validate(yaml: string, env: Record<string, string> = ENV) {
  const loaded = parseConfigText(yaml, 'agentdrift.yaml', env);
  expect(loaded.problems.map(formatProblem)).toEqual([]);
  return validateNotifyConfig(loaded.config!.receivers, loaded.config!.route, loaded.source, 'agentdrift.yaml');
}

function problems(yaml: string, env: Record<string, string> = ENV): string[] {
  return validate(yaml, env).problems.map(formatProblem);
}

function ok(yaml: string): NotifyConfig {
  const r = validate(yaml);
  expect(r.problems.map(formatProblem)).toEqual([]);
  return r.config!;
}

describe('validateNotifyConfig: the documented shape', () => {
  it('reads every integration and the route with defaults filled', () => {
    const c = ok(FULL);
    expect(c.receivers).toEqual([
      { name: 'slack-agents', integration: 'slack', webhookUrl: ENV.SLACK_WEBHOOK_URL, channel: '#agent-alerts', timeoutMs: 10_000 },
      {
        name: 'oncall-email',
        integration: 'email',
        to: ['oncall@example.com'],
        from: 'agentdrift@example.com',
        host: 'smtp.example.com',
        port: 587,
        tls: 'starttls',
        authUsername: 'agentdrift',
        authPassword: ENV.SMTP_PASSWORD,
        insecureSkipVerify: false,
        timeoutMs: 30_000,
      },
      { name: 'hooks', integration: 'webhook', url: 'https://hooks.example.com/agentdrift', headers: { Authorization: `Bearer ${ENV.HOOK_TOKEN}` }, maxAlerts: 0, timeoutMs: 10_000 },
      { name: 'am', integration: 'alertmanager', url: 'http://alertmanager:9093', headers: {}, resendIntervalMs: 60_000, timeoutMs: 10_000 },
    ]);
    expect(c.route).toMatchObject({
      id: 'root',
      receivers: ['slack-agents'],
      groupWaitMs: 30_000,
      repeatIntervalMs: 4 * 3600_000,
      sendResolved: true,
      routes: [{ id: 'root.0', receivers: ['oncall-email', 'slack-agents'], continue: false, groupWaitMs: 30_000, matchers: [{ name: 'severity', op: '=', value: 'critical' }] }],
    });
    expect(Object.isFrozen(c.receivers[0])).toBe(true);
  });

  it('no receivers and no route is a valid config that sends nothing', () => {
    const c = ok('rules: [rules]\n');
    expect(c.receivers).toEqual([]);
    expect(c.route.receivers).toEqual([]);
  });

  it('accepts Alertmanager spellings: receiver (singular), quoted matchers, comma-separated to', () => {
    const c = ok(`receivers:
  - name: a
    email: { to: "x@example.com, Y <y@example.com>", from: a@example.com, smarthost: "[::1]:25", tls: none }
route:
  receiver: a
  routes:
    - matchers: ['{severity="critical", team=~"agents|ml"}']
      group_wait: 0s
      send_resolved: false
`);
    expect(c.receivers[0]).toMatchObject({ to: ['x@example.com', 'Y <y@example.com>'], host: '::1', port: 25, tls: 'none' });
    expect(c.route.routes[0]).toMatchObject({ receivers: ['a'], groupWaitMs: 0, sendResolved: false, repeatIntervalMs: 4 * 3600_000 });
    expect(c.route.routes[0]!.matchers.map((m) => `${m.name}${m.op}${m.value}`)).toEqual(['severity=critical', 'team=~agents|ml']);
  });
});

describe('validateNotifyConfig: problems with positions', () => {
  it('unknown keys, at the key, with a suggestion', () => {
    expect(
      problems(`receivers:
  - name: s
    slack: { webhook_url: "https://hooks.slack.com/x", chanel: "#a" }
    pagerduty: {}
route:
  receivers: [s]
  group_wiat: 30s
`),
    ).toEqual([
      'agentdrift.yaml:3:56: unknown key "chanel" in slack (did you mean "channel"?)',
      'agentdrift.yaml:4:5: unknown key "pagerduty" in receiver (allowed: name, slack, email, webhook, alertmanager)',
      'agentdrift.yaml:7:3: unknown key "group_wiat" in route (did you mean "group_wait"?)',
    ]);
  });

  it('exactly one integration per receiver; names required and unique', () => {
    expect(
      problems(`receivers:
  - name: none
  - name: two
    slack: { webhook_url: "https://hooks.slack.com/x" }
    webhook: { url: "https://example.com/h" }
  - slack: { webhook_url: "https://hooks.slack.com/y" }
  - name: two
    webhook: { url: "https://example.com/h2" }
route:
  receivers: [two]
`),
    ).toEqual([
      'agentdrift.yaml:2:5: receiver "none": needs one integration: slack, email, webhook, alertmanager',
      'agentdrift.yaml:5:5: receiver "two": has both slack and webhook; one integration per receiver (define a receiver for each)',
      'agentdrift.yaml:6:5: receiver is missing required key "name"',
      'agentdrift.yaml:7:11: receiver name "two" is already used (first at line 3); names must be unique',
    ]);
  });

  it('routes naming unknown receivers, bad matchers and bad durations', () => {
    expect(
      problems(`receivers:
  - name: slack-agents
    slack: { webhook_url: "https://hooks.slack.com/x" }
route:
  receivers: [slack-agent]
  group_wait: 30
  repeat_interval: 10s
  routes:
    - matchers: ['severity == critical', 'team =~ "(unclosed"', 'ok = fine']
      receivers: [pager]
      continue: maybe
`),
    ).toEqual([
      'agentdrift.yaml:5:15: route names unknown receiver "slack-agent" (did you mean "slack-agents"?)',
      'agentdrift.yaml:6:15: route.group_wait: expected a duration, got a number without a unit (use an integer with a unit (ms, s, m, h, d, w, y), largest first, e.g. 30s, 5m, 1h30m, 7d)',
      'agentdrift.yaml:7:20: route.repeat_interval: must be at least 1m, got 10s',
      'agentdrift.yaml:9:18: matchers[0]: unexpected "=" after = on "severity" (operators are =, !=, =~, !~; quote a value that starts with it) in "severity == critical"',
      'agentdrift.yaml:9:42: matchers[1]: invalid regular expression for "team": Unterminated group in "team =~ \\"(unclosed\\""',
      'agentdrift.yaml:10:19: route names unknown receiver "pager" (defined: slack-agents)',
      'agentdrift.yaml:11:17: continue: expected true or false, got a string',
    ]);
  });

  it('a route without receivers when receivers exist, and matchers on the top route', () => {
    expect(
      problems(`receivers:
  - name: s
    slack: { webhook_url: "https://hooks.slack.com/x" }
route:
  matchers: ['a = b']
`),
    ).toEqual([
      'agentdrift.yaml:5:3: route: the top-level route takes every alert; put matchers on a sub-route under routes',
      'agentdrift.yaml:5:3: route: missing "receivers" (where alerts that no sub-route takes go); write receivers: [] to send them nowhere',
    ]);
  });

  it('email: addresses, smarthost, tls mode, and auth given in pairs', () => {
    expect(
      problems(`receivers:
  - name: e
    email: { to: [], from: "not an address", smarthost: "smtp.example.com", tls: ssl, auth_password: "\${SMTP_PASSWORD}" }
route: { receivers: [e] }
`),
    ).toEqual([
      'agentdrift.yaml:3:18: email.to: needs at least one address',
      'agentdrift.yaml:3:28: email.from: "not an address" is not an email address',
      'agentdrift.yaml:3:57: email.smarthost: expected host:port (e.g. smtp.example.com:587), got "smtp.example.com"',
      'agentdrift.yaml:3:82: email.tls: must be one of starttls, tls, none, got "ssl"',
      'agentdrift.yaml:3:87: email: auth_password needs auth_username',
    ]);
  });

  it('webhook and alertmanager: URLs, headers, max_alerts, resend_interval', () => {
    expect(
      problems(`receivers:
  - name: w
    webhook: { url: "ftp://example.com/x", headers: { "Content-Type": text/plain, "bad header": x }, max_alerts: -1 }
  - name: am
    alertmanager: { url: "not a url", resend_interval: 1s }
route: { receivers: [w, am] }
`),
    ).toEqual([
      'agentdrift.yaml:3:21: webhook.url: must be an http or https URL, got scheme "ftp:"',
      'agentdrift.yaml:3:55: webhook.headers: "Content-Type" is set by agentdrift and cannot be overridden',
      'agentdrift.yaml:3:83: webhook.headers: "bad header" is not a valid header name',
      'agentdrift.yaml:3:114: webhook.max_alerts: must be a whole number, 0 for no limit, got -1',
      'agentdrift.yaml:5:26: alertmanager.url: not a valid URL (expected http:// or https://...)',
      'agentdrift.yaml:5:56: alertmanager.resend_interval: must be at least 10s, got 1s',
    ]);
  });

  it('without a parsed file, problems still name the file', () => {
    const r = validateNotifyConfig([{ name: 'x' }], { receivers: ['x'] }, null, 'generated');
    expect(r.problems.map(formatProblem)).toEqual(['generated:1:1: receiver "x": needs one integration: slack, email, webhook, alertmanager']);
  });
});

describe('validateNotifyConfig: secrets never appear in problems', () => {
  const secretsEnv = {
    SLACK_WEBHOOK_URL: 'ftp://hooks.slack.com/services/T000/B000/slacksecretXYZ123',
    SMTP_USER: 'u',
    SMTP_PASSWORD: 'smtp-pa55word-secret',
    HOOK_TOKEN: 'hooktoken-secret-987\nInjected: 1',
    AM_URL: 'not-a-url-amsecret-555',
    HOOK_URL: 'gopher://user:urlpass-secret-321@example.com/path-secret-abcdefgh?token=querysecret-777',
  };

  it('bad URLs and bad header values are reported by field name only', () => {
    const r = validate(
      `receivers:
  - name: s
    slack: { webhook_url: "\${SLACK_WEBHOOK_URL}" }
  - name: e
    email: { to: a@example.com, from: b@example.com, smarthost: "x:1", auth_password: ["\${SMTP_PASSWORD}"] }
  - name: w
    webhook: { url: "\${HOOK_URL}", headers: { Authorization: "Bearer \${HOOK_TOKEN}" } }
  - name: am
    alertmanager: { url: "\${AM_URL}" }
route: { receivers: [s, e, w, am] }
`,
      secretsEnv,
    );
    const text = r.problems.map(formatProblem).join('\n');
    expect(r.problems.length).toBeGreaterThanOrEqual(5);
    for (const secret of ['slacksecretXYZ123', 'smtp-pa55word-secret', 'hooktoken-secret-987', 'amsecret-555', 'urlpass-secret-321', 'path-secret-abcdefgh', 'querysecret-777']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('webhook_url: must be an http or https URL');
    expect(text).toContain('auth_password: expected a string, got a list');
    expect(text).toContain('headers.Authorization: a header value cannot contain a line break');
  });
});
