/**
 * `receivers` and `route` of agentdrift.yaml, validated as strictly as the rest of the file: unknown
 * keys, a receiver with no or two integrations, duplicate names, routes naming unknown receivers,
 * bad matchers and bad durations are problems with file:line:col, all reported at once.
 *
 * Secrets (slack.webhook_url, email.auth_password, header values, webhook and Alertmanager URLs,
 * which may hold tokens or userinfo) are never echoed: messages about them name the field only, and
 * every message is scrubbed of every secret value as a last guard.
 */
import { isIP } from 'node:net';
import type { Problem } from '../yaml/problem.js';
import { bool, Checker, describe, duration, isObj, labelOf, list, nonEmptyStr, oneOf, quote, str, suggest, type Obj, type Reader } from '../yaml/check.js';
import { deepFreeze } from '../yaml/freeze.js';
import { parseYaml, positionOf, sortProblems, type Path, type YamlSource } from '../yaml/source.js';
import { DEFAULT_RESEND_INTERVAL_MS } from './alertmanager.js';
import type { SmtpTls } from './email.js';
import { parseMatchers, type Matcher } from './matchers.js';
import { scrub, secretSet } from './redact.js';
import { EMPTY_ROUTE, ROUTE_DEFAULTS, type RouteNode } from './route.js';
import { INTEGRATIONS, type Integration } from './types.js';

interface ReceiverBase {
  readonly name: string;
  readonly timeoutMs: number;
}

export interface SlackReceiverConfig extends ReceiverBase {
  readonly integration: 'slack';
  readonly webhookUrl: string;
  readonly channel: string | null;
}

export interface EmailReceiverConfig extends ReceiverBase {
  readonly integration: 'email';
  readonly to: readonly string[];
  readonly from: string;
  readonly host: string;
  readonly port: number;
  readonly tls: SmtpTls;
  readonly authUsername: string | null;
  readonly authPassword: string | null;
  readonly insecureSkipVerify: boolean;
}

export interface WebhookReceiverConfig extends ReceiverBase {
  readonly integration: 'webhook';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** 0: no limit. */
  readonly maxAlerts: number;
}

export interface AlertmanagerReceiverConfig extends ReceiverBase {
  readonly integration: 'alertmanager';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly resendIntervalMs: number;
}

export type ReceiverConfig = SlackReceiverConfig | EmailReceiverConfig | WebhookReceiverConfig | AlertmanagerReceiverConfig;

export interface NotifyConfig {
  readonly receivers: readonly ReceiverConfig[];
  readonly route: RouteNode;
}

export const NOTIFY_DEFAULTS = {
  httpTimeoutMs: 10_000,
  smtpTimeoutMs: 30_000,
  resendIntervalMs: DEFAULT_RESEND_INTERVAL_MS,
  ...ROUTE_DEFAULTS,
} as const;

const RECEIVER_KEYS = ['name', ...INTEGRATIONS] as const;
const SLACK_KEYS = ['webhook_url', 'channel', 'timeout'] as const;
const EMAIL_KEYS = ['to', 'from', 'smarthost', 'tls', 'auth_username', 'auth_password', 'insecure_skip_verify', 'timeout'] as const;
const WEBHOOK_KEYS = ['url', 'headers', 'max_alerts', 'timeout'] as const;
const ALERTMANAGER_KEYS = ['url', 'headers', 'resend_interval', 'timeout'] as const;
const ROUTE_KEYS = ['matchers', 'receivers', 'receiver', 'group_wait', 'repeat_interval', 'send_resolved', 'continue', 'routes'] as const;
const TLS_MODES = ['starttls', 'tls', 'none'] as const satisfies readonly SmtpTls[];

/** Every secret a validated config holds, in every form worth scrubbing from text. */
export function notifySecrets(config: NotifyConfig): string[] {
  const values: (string | null)[] = [];
  for (const r of config.receivers) {
    if (r.integration === 'slack') values.push(r.webhookUrl);
    if (r.integration === 'email') values.push(r.authPassword);
    if (r.integration === 'webhook' || r.integration === 'alertmanager') values.push(r.url, ...Object.values(r.headers));
  }
  return secretSet(values);
}

export function validateNotifyConfig(
  receivers: readonly unknown[],
  route: unknown,
  source: YamlSource | null,
  file: string,
): { config: NotifyConfig | null; problems: Problem[] } {
  // Without a parsed file (a programmatic config) problems still name the file, at 1:1.
  const c = new Checker(source ?? parseYaml('', file).source);
  const rawSecrets: string[] = [];
  const read = new ReceiverReader(c, rawSecrets);

  const out: ReceiverConfig[] = [];
  const names = new Map<string, number>();
  receivers.forEach((raw, i) => {
    const path: Path = ['receivers', i];
    const r = read.receiver(raw, path);
    const name = r.name;
    if (name !== undefined) {
      const first = names.get(name);
      if (first !== undefined) {
        const at = positionOf(c.source, ['receivers', first, 'name']).line;
        c.report([...path, 'name'], `receiver name ${quote(name)} is already used (first at line ${at}); names must be unique`);
      } else names.set(name, i);
    }
    if (r.config !== undefined) out.push(r.config);
  });

  const refs: { name: string; path: Path }[] = [];
  const rootRoute = readRoute(c, route, ['route'], null, refs, receivers.length > 0);
  for (const ref of refs) {
    if (names.has(ref.name)) continue;
    const near = suggest(ref.name, [...names.keys()]);
    const hint = near !== null ? ` (did you mean ${quote(near)}?)` : names.size > 0 ? ` (defined: ${[...names.keys()].join(', ')})` : ' (no receivers are defined)';
    c.report(ref.path, `route names unknown receiver ${quote(ref.name)}${hint}`);
  }

  const secrets = secretSet(rawSecrets);
  const problems = sortProblems(c.problems).map((p) => {
    const message = scrub(p.message, secrets);
    return message === p.message ? p : { ...p, message };
  });
  if (problems.length > 0) return { config: null, problems };
  return { config: deepFreeze({ receivers: out, route: rootRoute ?? EMPTY_ROUTE }), problems };
}

// ---- receivers ---------------------------------------------------------------------------------------

class ReceiverReader {
  constructor(
    private readonly c: Checker,
    private readonly secrets: string[],
  ) {}

  receiver(raw: unknown, path: Path): { name: string | undefined; config: ReceiverConfig | undefined } {
    const c = this.c;
    const obj = c.mapping(raw, path, 'receiver', RECEIVER_KEYS);
    if (obj === undefined) return { name: undefined, config: undefined };
    const name = c.field(obj, path, 'name', nonEmptyStr, 'receiver');
    const label = name !== undefined ? `receiver ${quote(name)}` : 'receiver';
    const present = INTEGRATIONS.filter((k) => obj[k] !== undefined && obj[k] !== null);
    const empty = INTEGRATIONS.filter((k) => Object.hasOwn(obj, k) && (obj[k] === null || obj[k] === undefined));
    for (const k of empty) c.report([...path, k], `${label}: ${k} is empty; give its settings`, 'key');
    if (present.length === 0) {
      if (empty.length === 0) c.report(path, `${label}: needs one integration: ${INTEGRATIONS.join(', ')}`);
      return { name, config: undefined };
    }
    if (present.length > 1) {
      c.report([...path, present[1]!], `${label}: has both ${present[0]} and ${present[1]}; one integration per receiver (define a receiver for each)`, 'key');
    }
    const integration = present[0]!;
    const ipath: Path = [...path, integration];
    const config = this.integration(integration, obj[integration], ipath, name ?? '');
    return { name, config: name !== undefined && present.length === 1 ? config : undefined };
  }

  private integration(kind: Integration, raw: unknown, path: Path, name: string): ReceiverConfig | undefined {
    switch (kind) {
      case 'slack':
        return this.slack(raw, path, name);
      case 'email':
        return this.email(raw, path, name);
      case 'webhook':
        return this.webhook(raw, path, name);
      case 'alertmanager':
        return this.alertmanager(raw, path, name);
    }
  }

  private timeout(obj: Obj, path: Path, dflt: number): number {
    return this.c.field(obj, path, 'timeout', duration({ min: [1000, '1s'], max: [300_000, '5m'] })) ?? dflt;
  }

  private slack(raw: unknown, path: Path, name: string): SlackReceiverConfig | undefined {
    const c = this.c;
    const o = c.mapping(raw, path, 'slack', SLACK_KEYS);
    if (o === undefined) return undefined;
    const webhookUrl = c.field(o, path, 'webhook_url', this.secretUrl(), 'slack');
    const channel = c.field(o, path, 'channel', nonEmptyStr) ?? null;
    const timeoutMs = this.timeout(o, path, NOTIFY_DEFAULTS.httpTimeoutMs);
    if (webhookUrl === undefined) return undefined;
    return { name, integration: 'slack', webhookUrl, channel, timeoutMs };
  }

  private email(raw: unknown, path: Path, name: string): EmailReceiverConfig | undefined {
    const c = this.c;
    const o = c.mapping(raw, path, 'email', EMAIL_KEYS);
    if (o === undefined) return undefined;
    // Alertmanager takes a comma-separated string; a YAML list reads better. Both are accepted.
    const to = c.field(o, path, 'to', addressList, 'email');
    const from = c.field(o, path, 'from', address, 'email');
    const smarthost = c.field(o, path, 'smarthost', hostPort, 'email');
    const tls = c.field(o, path, 'tls', oneOf(TLS_MODES)) ?? 'starttls';
    const authUsername = c.field(o, path, 'auth_username', nonEmptyStr) ?? null;
    const authPassword = c.field(o, path, 'auth_password', this.secretString) ?? null;
    const insecureSkipVerify = c.field(o, path, 'insecure_skip_verify', bool) ?? false;
    const timeoutMs = this.timeout(o, path, NOTIFY_DEFAULTS.smtpTimeoutMs);
    if (authPassword !== null && authUsername === null) c.report([...path, 'auth_password'], 'email: auth_password needs auth_username', 'key');
    if (authUsername !== null && authPassword === null && !Object.hasOwn(o, 'auth_password')) {
      c.report([...path, 'auth_username'], 'email: auth_username needs auth_password', 'key');
    }
    if (to === undefined || from === undefined || smarthost === undefined) return undefined;
    return { name, integration: 'email', to, from, host: smarthost.host, port: smarthost.port, tls, authUsername, authPassword, insecureSkipVerify, timeoutMs };
  }

  private webhook(raw: unknown, path: Path, name: string): WebhookReceiverConfig | undefined {
    const c = this.c;
    const o = c.mapping(raw, path, 'webhook', WEBHOOK_KEYS);
    if (o === undefined) return undefined;
    const url = c.field(o, path, 'url', this.secretUrl(), 'webhook');
    const headers = c.field(o, path, 'headers', this.headers) ?? {};
    const maxAlerts = c.field(o, path, 'max_alerts', count) ?? 0;
    const timeoutMs = this.timeout(o, path, NOTIFY_DEFAULTS.httpTimeoutMs);
    if (url === undefined) return undefined;
    return { name, integration: 'webhook', url, headers, maxAlerts, timeoutMs };
  }

  private alertmanager(raw: unknown, path: Path, name: string): AlertmanagerReceiverConfig | undefined {
    const c = this.c;
    const o = c.mapping(raw, path, 'alertmanager', ALERTMANAGER_KEYS);
    if (o === undefined) return undefined;
    const url = c.field(o, path, 'url', this.secretUrl(), 'alertmanager');
    const headers = c.field(o, path, 'headers', this.headers) ?? {};
    const resendIntervalMs = c.field(o, path, 'resend_interval', duration({ min: [10_000, '10s'], max: [3600_000, '1h'] })) ?? NOTIFY_DEFAULTS.resendIntervalMs;
    const timeoutMs = this.timeout(o, path, NOTIFY_DEFAULTS.httpTimeoutMs);
    if (url === undefined) return undefined;
    return { name, integration: 'alertmanager', url, headers, resendIntervalMs, timeoutMs };
  }

  /** A string whose value is never put in a message, not even as a type hint. */
  private readonly secretString: Reader<string> = (c, v, p) => {
    if (typeof v === 'string') {
      this.secrets.push(v);
      if (v !== '') return v;
      c.report(p, `${labelOf(p)}: must not be empty`);
      return undefined;
    }
    c.report(p, `${labelOf(p)}: expected a string, got ${describe(v)} (quote it)`);
    return undefined;
  };

  /** An http(s) URL that may hold a token or userinfo: messages name the field, never the URL. */
  private secretUrl(): Reader<string> {
    return (c, v, p) => {
      const s = this.secretString(c, v, p);
      if (s === undefined) return undefined;
      let u: URL;
      try {
        u = new URL(s.trim());
      } catch {
        c.report(p, `${labelOf(p)}: not a valid URL (expected http:// or https://...)`);
        return undefined;
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') {
        c.report(p, `${labelOf(p)}: must be an http or https URL, got scheme ${quote(u.protocol.slice(0, 20))}`);
        return undefined;
      }
      return s.trim();
    };
  }

  private readonly headers: Reader<Record<string, string>> = (c, v, p) => {
    if (!isObj(v)) {
      c.report(p, `${labelOf(p)}: expected a mapping of header names to values, got ${describe(v)}`);
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      const hp: Path = [...p, k];
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) {
        c.report(hp, `${labelOf(p)}: ${quote(k)} is not a valid header name`, 'key');
        continue;
      }
      if (RESERVED_HEADERS.includes(k.toLowerCase())) {
        c.report(hp, `${labelOf(p)}: ${quote(k)} is set by agentdrift and cannot be overridden`, 'key');
        continue;
      }
      const s = this.secretString(c, val, hp);
      if (s === undefined) continue;
      if (/[\r\n\0]/.test(s)) {
        c.report(hp, `${labelOf(hp)}: a header value cannot contain a line break`);
        continue;
      }
      out[k] = s;
    }
    return out;
  };
}

const RESERVED_HEADERS = ['content-type', 'content-length', 'host', 'transfer-encoding', 'connection'];

const count: Reader<number> = (c, v, p) => {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  c.report(p, `${labelOf(p)}: must be a whole number, 0 for no limit, got ${typeof v === 'number' ? String(v) : describe(v)}`);
  return undefined;
};

/** `a@b.c` or `Name <a@b.c>`; the SMTP server is the judge of the rest. */
const ADDRESS = /^(?:[^<>\r\n]*<\s*[^\s@<>]+@[^\s@<>]+\s*>|[^\s@<>,]+@[^\s@<>,]+)$/;

const address: Reader<string> = (c, v, p) => {
  const s = nonEmptyStr(c, v, p);
  if (s === undefined) return undefined;
  if (ADDRESS.test(s.trim())) return s.trim();
  c.report(p, `${labelOf(p)}: ${quote(s)} is not an email address`);
  return undefined;
};

const addressList: Reader<string[]> = (c, v, p) => {
  if (typeof v === 'string') {
    const parts = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (parts.length === 0) {
      c.report(p, `${labelOf(p)}: needs at least one address`);
      return undefined;
    }
    const out = parts.map((s) => address(c, s, p));
    return out.every((a) => a !== undefined) ? (out as string[]) : undefined;
  }
  const out = list(address)(c, v, p);
  if (out !== undefined && out.length === 0 && Array.isArray(v) && v.length === 0) {
    c.report(p, `${labelOf(p)}: needs at least one address`);
    return undefined;
  }
  return out !== undefined && Array.isArray(v) && out.length === v.length ? out : undefined;
};

const hostPort: Reader<{ host: string; port: number }> = (c, v, p) => {
  const s = nonEmptyStr(c, v, p);
  if (s === undefined) return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(s.trim());
  if (m === null) {
    c.report(p, `${labelOf(p)}: expected host:port (e.g. smtp.example.com:587), got ${quote(s)}`);
    return undefined;
  }
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (m[1] !== undefined && isIP(host) !== 6) {
    c.report(p, `${labelOf(p)}: ${quote(host)} is not an IPv6 address`);
    return undefined;
  }
  if (port < 1 || port > 65535) {
    c.report(p, `${labelOf(p)}: port must be from 1 to 65535, got ${port}`);
    return undefined;
  }
  return { host, port };
};

// ---- route -------------------------------------------------------------------------------------------

interface Inherited {
  readonly receivers: readonly string[];
  readonly groupWaitMs: number;
  readonly repeatIntervalMs: number;
  readonly sendResolved: boolean;
}

const matcherItem: Reader<Matcher[]> = (c, v, p) => {
  const s = str(c, v, p);
  if (s === undefined) return undefined;
  const r = parseMatchers(s);
  if (typeof r === 'string') {
    c.report(p, `${labelOf(p)}: ${r} in ${quote(s)}`);
    return undefined;
  }
  return r;
};

function readRoute(c: Checker, raw: unknown, path: Path, parent: Inherited | null, refs: { name: string; path: Path }[], haveReceivers: boolean): RouteNode | undefined {
  const root = parent === null;
  const what = root ? 'route' : 'sub-route';
  // The top route knows matchers and continue too, to say why they do not apply there.
  const o = c.mapping(raw ?? {}, path, what, ROUTE_KEYS);
  if (o === undefined) return undefined;
  if (root && Object.hasOwn(o, 'matchers')) c.report([...path, 'matchers'], 'route: the top-level route takes every alert; put matchers on a sub-route under routes', 'key');
  if (root && Object.hasOwn(o, 'continue')) c.report([...path, 'continue'], 'route: continue only applies to sub-routes', 'key');

  let receivers: string[] | undefined;
  const hasList = o.receivers !== undefined && o.receivers !== null;
  const hasOne = o.receiver !== undefined && o.receiver !== null;
  if (hasList && hasOne) c.report([...path, 'receiver'], `${what}: give either receiver or receivers, not both`, 'key');
  if (hasList) {
    const names = c.field(o, path, 'receivers', list(nonEmptyStr));
    if (names !== undefined) {
      receivers = names;
      (o.receivers as unknown[]).forEach((n, i) => {
        if (typeof n === 'string' && n.trim() !== '') refs.push({ name: n, path: [...path, 'receivers', i] });
      });
    }
  } else if (hasOne) {
    const name = c.field(o, path, 'receiver', nonEmptyStr);
    if (name !== undefined) {
      receivers = [name];
      refs.push({ name, path: [...path, 'receiver'] });
    }
  } else if (root && haveReceivers) {
    c.report(path, 'route: missing "receivers" (where alerts that no sub-route takes go); write receivers: [] to send them nowhere');
  }

  const groupWaitMs = c.field(o, path, 'group_wait', duration({ max: [3600_000, '1h'] })) ?? parent?.groupWaitMs ?? ROUTE_DEFAULTS.groupWaitMs;
  const repeatIntervalMs = c.field(o, path, 'repeat_interval', duration({ min: [60_000, '1m'] })) ?? parent?.repeatIntervalMs ?? ROUTE_DEFAULTS.repeatIntervalMs;
  const sendResolved = c.field(o, path, 'send_resolved', bool) ?? parent?.sendResolved ?? ROUTE_DEFAULTS.sendResolved;
  const cont = root ? false : (c.field(o, path, 'continue', bool) ?? false);
  const matcherLists = root ? [] : (c.field(o, path, 'matchers', list(matcherItem)) ?? []);

  const here: Inherited = { receivers: receivers ?? parent?.receivers ?? [], groupWaitMs, repeatIntervalMs, sendResolved };
  const children: RouteNode[] = [];
  const rawRoutes = o.routes;
  if (rawRoutes !== undefined && rawRoutes !== null) {
    if (!Array.isArray(rawRoutes)) c.report([...path, 'routes'], `routes: expected a list of sub-routes, got ${describe(rawRoutes)}`);
    else {
      rawRoutes.forEach((r: unknown, i) => {
        const child = readRoute(c, r, [...path, 'routes', i], here, refs, haveReceivers);
        if (child !== undefined) children.push({ ...child, id: `${idOf(path)}.${i}` });
      });
    }
  }
  return {
    id: idOf(path),
    matchers: matcherLists.flat(),
    receivers: here.receivers,
    groupWaitMs,
    repeatIntervalMs,
    sendResolved,
    continue: cont,
    routes: children,
  };
}

/** ['route', 'routes', 0, 'routes', 1] -> "root.0.1". */
function idOf(path: Path): string {
  return ['root', ...path.filter((s): s is number => typeof s === 'number')].join('.');
}
