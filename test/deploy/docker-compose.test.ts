/**
 * docker-compose.yml, the Dockerfile and the files they mount, checked statically (Docker does not
 * run in CI): every mounted file exists, every service another one names exists and listens where it
 * is told to, host ports do not clash, every service has a health check or says why not, the
 * collector writes where agentdrift reads, secrets come from .env with every variable in
 * .env.example, each service has its own ClickHouse user with only the grants its job needs, images
 * and the Grafana plugin are pinned, and the image builds as a non-root multi-stage image on a
 * supported Node LTS.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { posix, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfigText } from '../../src/config/load.js';
import { validateNotifyConfig } from '../../src/notify/config.js';

const ROOT = resolve(__dirname, '../..');
const read = (f: string) => readFileSync(resolve(ROOT, f), 'utf8');
const composeText = read('docker-compose.yml');

type Env = Record<string, string>;

interface LongVolume {
  type: string;
  source?: string;
  target: string;
}
interface LongPort {
  target: number | string;
  published?: number | string;
  host_ip?: string;
}
interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: (string | LongVolume)[];
  ports?: (string | number | LongPort)[];
  expose?: (string | number)[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  links?: string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  'x-healthcheck-reason'?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// ---- .env.example and compose interpolation ---------------------------------------------------------

function parseDotenv(text: string): Env {
  const env: Env = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!.trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}
const dotenv = parseDotenv(read('.env.example'));

/** Compose's own interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
function interpolate(text: string, env: Env): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const n = name ?? bare!;
    const v = env[n];
    const unset = v === undefined || (op?.startsWith(':') === true && v === '');
    if (op?.endsWith('-')) return unset ? arg! : v!;
    if (op?.endsWith('?') && unset) throw new Error(`compose would stop: ${n}: ${arg}`);
    return v ?? '';
  });
}

/** Variables the compose file reads from the environment (the ones .env must provide). */
function composeVariables(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1] ?? m[2]!);
  return [...names];
}

const compose = parse(interpolate(composeText, dotenv)) as Compose;
const services = compose.services;
const serviceNames = Object.keys(services);

function environment(s: Service): Env {
  const out: Env = {};
  if (Array.isArray(s.environment)) {
    for (const kv of s.environment) {
      const i = kv.indexOf('=');
      if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
    }
  } else {
    for (const [k, v] of Object.entries(s.environment ?? {})) out[k] = v === null ? '' : String(v);
  }
  return out;
}

// ---- volumes and ports --------------------------------------------------------------------------------

interface Mount {
  readonly kind: 'bind' | 'volume';
  readonly source: string;
  readonly target: string;
}

function mounts(s: Service): Mount[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { kind: v.type === 'bind' ? 'bind' : 'volume', source: v.source ?? '', target: v.target };
    const [source, target] = v.split(':') as [string, string];
    return { kind: /^[./~]/.test(source) ? 'bind' : 'volume', source, target };
  });
}

/** The repository file a container path comes from, through a bind mount (deepest mount wins). */
function hostPathOf(s: Service, containerPath: string): string | null {
  const candidates = mounts(s)
    .filter((m) => m.kind === 'bind' && (containerPath === m.target || containerPath.startsWith(`${m.target}/`)))
    .sort((a, b) => b.target.length - a.target.length);
  const m = candidates[0];
  return m ? resolve(ROOT, m.source, posix.relative(m.target, containerPath)) : null;
}

interface Published {
  readonly service: string;
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
}

function ports(name: string, s: Service): Published[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') {
      return { service: name, hostIp: p.host_ip ?? '0.0.0.0', hostPort: Number(p.published ?? p.target), containerPort: Number(p.target) };
    }
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    const containerPort = Number(parts.at(-1));
    if (parts.length === 1) return { service: name, hostIp: '0.0.0.0', hostPort: containerPort, containerPort };
    if (parts.length === 2) return { service: name, hostIp: '0.0.0.0', hostPort: Number(parts[0]), containerPort };
    return { service: name, hostIp: parts[0]!, hostPort: Number(parts[1]), containerPort };
  });
}

/** Ports a service listens on inside the network: what it publishes or exposes. */
function listening(name: string): Set<number> {
  const s = services[name]!;
  return new Set([...ports(name, s).map((p) => p.containerPort), ...(s.expose ?? []).map(Number)]);
}

// ---- the files the services are told to use -----------------------------------------------------------

const agentdriftService = services.agentdrift!;
const agentdriftEnv = environment(agentdriftService);
const agentdriftConfigPath = agentdriftService.command ? (Array.isArray(agentdriftService.command) ? agentdriftService.command : agentdriftService.command.split(' ')) : [];
const configInContainer = agentdriftConfigPath[agentdriftConfigPath.indexOf('--config') + 1]!;
const agentdriftConfigFile = hostPathOf(agentdriftService, configInContainer)!;
const agentdriftConfig = parseConfigText(readFileSync(agentdriftConfigFile, 'utf8'), configInContainer, agentdriftEnv);

interface Collector {
  exporters: { clickhouse: { endpoint: string; database: string; traces_table_name: string; username: string; password: string } };
  service: { pipelines: Record<string, { exporters: string[] }> };
}
const collector = parse(read('deploy/otel-collector.yaml')) as Collector;
const prometheus = parse(read('deploy/prometheus.yml')) as {
  rule_files: string[];
  alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
};
const alertmanager = parse(read('deploy/alertmanager.yml')) as { global: { smtp_smarthost: string } };
const grafanaDatasources = (parse(read('grafana/provisioning/datasources/datasources.yaml')) as {
  datasources: { type: string; url?: string; jsonData?: { host?: string; port?: number; defaultDatabase?: string } }[];
}).datasources;
const grafanaProvider = (parse(read('grafana/provisioning/dashboards/dashboards.yaml')) as { providers: { options: { path: string } }[] }).providers[0]!;

/** Grafana expands $VAR and ${VAR} in provisioning files from its own environment. */
const grafanaEnv = (text: string) => text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_w, n: string) => environment(services.grafana!)[n] ?? '');

describe('docker-compose.yml', () => {
  it('parses and holds the whole stack', () => {
    expect([...serviceNames].sort()).toEqual(['agentdrift', 'agentdrift-migrate', 'alertmanager', 'clickhouse', 'grafana', 'mailpit', 'otel-collector', 'prometheus']);
    expect(services.clickhouse!.image).toMatch(/^clickhouse\/clickhouse-server:/);
    expect(services['otel-collector']!.image).toMatch(/^otel\/opentelemetry-collector-contrib:/);
    expect(services.grafana!.image).toMatch(/^grafana\/grafana:/);
    expect(agentdriftService.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile' });
    expect(services['agentdrift-migrate']!.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile' });
    expect(services['agentdrift-migrate']!.image).toBe(agentdriftService.image);
  });

  it('pins every image and the Grafana ClickHouse plugin to a version', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, `${name} has no image`).toBeDefined();
      expect(s.image!, name).toMatch(/:[\w.-]+$/);
      expect(s.image!, name).not.toMatch(/:latest$/);
    }
    // GF_INSTALL_PLUGINS takes "<plugin id> <version>" entries separated by commas; without a version
    // Grafana fetches whatever is newest at first boot.
    const plugins = environment(services.grafana!).GF_INSTALL_PLUGINS!.split(',').map((p) => p.trim());
    expect(plugins).toHaveLength(1);
    expect(plugins[0]).toMatch(/^grafana-clickhouse-datasource \d+\.\d+\.\d+$/);
  });

  it('mounts only files and directories that exist in the repository', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const [name, s] of Object.entries(services)) {
      for (const m of mounts(s)) {
        if (m.kind === 'volume') {
          expect(declared.has(m.source), `${name}: volume ${m.source} is not declared`).toBe(true);
          continue;
        }
        const host = resolve(ROOT, m.source);
        expect(relative(ROOT, host).startsWith('..'), `${name}: ${m.source} is outside the repository`).toBe(false);
        expect(existsSync(host), `${name}: ${m.source} does not exist`).toBe(true);
      }
    }
  });

  it('names only services that exist, in depends_on, links and environment URLs', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of [...deps, ...(s.links ?? []).map((l) => l.split(':')[0]!)]) expect(serviceNames, `${name} -> ${d}`).toContain(d);
      if (s.depends_on && !Array.isArray(s.depends_on)) {
        for (const [d, c] of Object.entries(s.depends_on)) {
          expect(['service_started', 'service_healthy', 'service_completed_successfully'], `${name} -> ${d}`).toContain(c.condition);
          if (c.condition === 'service_healthy') {
          expect(services[d]!.healthcheck, `${name} waits for ${d} to be healthy, which has no health check`).toBeDefined();
          expect(services[d]!.healthcheck!.disable, `${name} waits for ${d} to be healthy, whose health check is disabled`).not.toBe(true);
        }
        }
      }
      for (const [k, v] of Object.entries(environment(s))) {
        for (const m of v.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/([A-Za-z0-9_.-]+)/g)) {
          expect([...serviceNames, 'localhost', '127.0.0.1'], `${name}: ${k}=${v}`).toContain(m[1]);
        }
      }
    }
  });

  it('points every configured address at a service port that exists', () => {
    const addresses: [string, string][] = [
      ...prometheus.scrape_configs.flatMap((j) => j.static_configs.flatMap((c) => c.targets.map((t): [string, string] => [`prometheus job ${j.job_name}`, t]))),
      ...prometheus.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets.map((t): [string, string] => ['prometheus alerting', t]))),
      ['alertmanager smtp_smarthost', alertmanager.global.smtp_smarthost],
      ['collector exporter', new URL(collector.exporters.clickhouse.endpoint).host],
      ['agentdrift clickhouse.target', new URL(agentdriftConfig.config!.clickhouse.targetSpec).host],
      ...agentdriftConfig.config!.receivers.flatMap((r) =>
        Object.values(r)
          .filter((v): v is { url: string } => typeof v === 'object' && v !== null && 'url' in v)
          .map((v): [string, string] => [`agentdrift receiver ${String(r.name)}`, new URL(v.url).host]),
      ),
      ...grafanaDatasources.map((d): [string, string] => [`grafana ${d.type}`, d.url ? new URL(d.url).host : `${d.jsonData!.host}:${d.jsonData!.port}`]),
    ];
    expect(addresses.length).toBeGreaterThanOrEqual(10);
    for (const [what, address] of addresses) {
      const [host, port] = address.split(':') as [string, string];
      if (host === 'localhost') continue;
      expect(serviceNames, `${what}: ${address}`).toContain(host);
      expect([...listening(host)], `${what}: ${address}`).toContain(Number(port));
    }
  });

  it('publishes each host port once', () => {
    const all = Object.entries(services).flatMap(([n, s]) => ports(n, s));
    expect(all.length).toBeGreaterThan(5);
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        const a = all[i]!;
        const b = all[j]!;
        const sameIp = a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0';
        expect(sameIp && a.hostPort === b.hostPort, `${a.service} and ${b.service} both publish ${a.hostPort}`).toBe(false);
      }
    }
  });

  it('gives every service a health check or a documented reason', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.healthcheck && s.healthcheck.disable !== true) {
        expect(s.healthcheck.test?.length, name).toBeGreaterThan(0);
      } else {
        expect(s['x-healthcheck-reason'] ?? '', `${name} has neither a healthcheck nor x-healthcheck-reason`).toMatch(/\w{10,}/);
      }
    }
  });

  it('takes every variable it uses from .env, with .env.example defining each', () => {
    const used = composeVariables(composeText);
    expect(used).toEqual(
      expect.arrayContaining(['CLICKHOUSE_MIGRATE_PASSWORD', 'CLICKHOUSE_AGENTDRIFT_PASSWORD', 'CLICKHOUSE_COLLECTOR_PASSWORD', 'CLICKHOUSE_GRAFANA_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']),
    );
    // One password per ClickHouse user: no two services share an account.
    expect(used).not.toContain('CLICKHOUSE_USER');
    expect(used).not.toContain('CLICKHOUSE_PASSWORD');
    for (const v of used) expect(Object.keys(dotenv), `${v} is used by docker-compose.yml`).toContain(v);
    // Passwords are never written into the compose file itself.
    for (const [name, s] of Object.entries((parse(composeText) as Compose).services)) {
      for (const [k, v] of Object.entries(environment(s))) if (/PASSWORD/.test(k)) expect(v, `${name}: ${k}`).toMatch(/^\$\{/);
    }
    expect(read('.gitignore').split('\n')).toContain('.env');
  });
});

describe('the stack is wired consistently', () => {
  it("agentdrift's compose config is valid with the environment compose gives it", () => {
    expect(agentdriftConfig.problems).toEqual([]);
    const n = validateNotifyConfig(agentdriftConfig.config!.receivers, agentdriftConfig.config!.route, agentdriftConfig.source, configInContainer);
    expect(n.problems).toEqual([]);
    expect(n.config!.receivers.map((r) => r.integration)).toContain('alertmanager');
  });

  it('the collector writes to the database and traces table agentdrift reads', () => {
    const ch = collector.exporters.clickhouse;
    const c = agentdriftConfig.config!;
    expect(ch.database).toBe(c.clickhouse.target.database);
    expect(ch.traces_table_name).toBe(c.tables.otelTraces);
    expect(Object.values(collector.service.pipelines).some((p) => p.exporters.includes('clickhouse'))).toBe(true);
    // Its own user, from its environment; it may not create tables, so the schema is there before it starts.
    expect(ch.username).toBe('${env:CLICKHOUSE_USER}');
    expect(ch.password).toBe('${env:CLICKHOUSE_PASSWORD}');
    expect((collector.exporters.clickhouse as { create_schema?: boolean }).create_schema).toBe(false);
    const collectorEnv = environment(services['otel-collector']!);
    expect(collectorEnv.CLICKHOUSE_USER).toBe('otel_collector');
    expect(collectorEnv.CLICKHOUSE_PASSWORD).toBe(dotenv.CLICKHOUSE_COLLECTOR_PASSWORD);
    expect(services['otel-collector']!.depends_on).toMatchObject({ 'agentdrift-migrate': { condition: 'service_completed_successfully' } });
  });

  it('ClickHouse creates that database, and Grafana queries it', () => {
    const db = agentdriftConfig.config!.clickhouse.target.database;
    expect(environment(services.clickhouse!).CLICKHOUSE_DB).toBe(db);
    const chDs = grafanaDatasources.find((d) => d.type === 'grafana-clickhouse-datasource')!;
    expect(grafanaEnv(String(chDs.jsonData!.defaultDatabase))).toBe(db);
    expect(agentdriftConfig.config!.clickhouse.user).toBe('agentdrift');
  });

  it('agentdrift listens where Prometheus scrapes it, with its rules and state where they are mounted', () => {
    const c = agentdriftConfig.config!;
    const job = prometheus.scrape_configs.find((j) => j.job_name === 'agentdrift')!;
    const [host, port] = job.static_configs[0]!.targets[0]!.split(':');
    expect(host).toBe('agentdrift');
    expect(c.listen).toEqual({ host: '0.0.0.0', port: Number(port) });
    for (const r of c.rules) {
      const host = hostPathOf(agentdriftService, r);
      expect(host, `rules ${r} are not mounted`).not.toBeNull();
      expect(statSync(host!).isDirectory()).toBe(true);
    }
    const stateDir = posix.dirname(c.stateFile);
    expect(mounts(agentdriftService).some((m) => m.kind === 'volume' && m.target === stateDir), `state directory ${stateDir} is not on a volume`).toBe(true);
  });

  it('Prometheus finds its rule files next to its mounted config', () => {
    const s = services.prometheus!;
    const config = mounts(s).find((m) => m.source.endsWith('prometheus.yml'))!;
    for (const f of prometheus.rule_files) {
      const inContainer = posix.join(posix.dirname(config.target), f);
      const host = hostPathOf(s, inContainer);
      expect(host, `${inContainer} is not mounted`).not.toBeNull();
      expect(existsSync(host!)).toBe(true);
    }
    expect(hostPathOf(services.alertmanager!, '/etc/alertmanager/alertmanager.yml')).toBe(resolve(ROOT, 'deploy/alertmanager.yml'));
    expect(hostPathOf(services['otel-collector']!, '/etc/otelcol-contrib/config.yaml')).toBe(resolve(ROOT, 'deploy/otel-collector.yaml'));
  });

  it('Grafana gets the provisioning and the dashboards where its provider looks', () => {
    const g = services.grafana!;
    expect(hostPathOf(g, '/etc/grafana/provisioning/datasources/datasources.yaml')).toBe(resolve(ROOT, 'grafana/provisioning/datasources/datasources.yaml'));
    expect(hostPathOf(g, '/etc/grafana/provisioning/dashboards/dashboards.yaml')).toBe(resolve(ROOT, 'grafana/provisioning/dashboards/dashboards.yaml'));
    expect(hostPathOf(g, grafanaProvider.options.path)).toBe(resolve(ROOT, 'grafana/dashboards'));
    const home = hostPathOf(g, environment(g).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!);
    expect(home && existsSync(home)).toBe(true);
  });
});

// ---- ClickHouse users --------------------------------------------------------------------------------

interface ChUser {
  readonly body: string;
  readonly passwordEnv: string | null;
  readonly plainPassword: boolean;
  readonly profile: string | null;
  readonly networks: string[];
  readonly grants: string[];
}

const USERS_FILE = 'deploy/clickhouse/users.d/agentdrift-users.xml';
const usersXml = read(USERS_FILE).replace(/<!--[\s\S]*?-->/g, '');

/** The children of one element (`<name>...</name>`), by name; enough XML for this flat file. */
function children(xml: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of xml.matchAll(/<([A-Za-z_][\w-]*)(?:\s[^>]*)?>([\s\S]*?)<\/\1>/g)) out.set(m[1]!, m[2]!);
  return out;
}
const usersRoot = children(usersXml).get('clickhouse') ?? '';
const section = (name: string) => children(usersRoot).get(name) ?? '';
const chUsers = new Map(
  [...children(section('users'))].map(([name, body]): [string, ChUser] => [
    name,
    {
      body,
      passwordEnv: /<password\s+from_env="([A-Z_]+)"\s*\/>/.exec(body)?.[1] ?? null,
      plainPassword: /<password>[^<]+<\/password>|<password_sha256_hex>/.test(body),
      profile: /<profile>([^<]+)<\/profile>/.exec(body)?.[1] ?? null,
      networks: [...body.matchAll(/<ip>([^<]+)<\/ip>/g)].map((m) => m[1]!),
      grants: [...body.matchAll(/<query>([^<]+)<\/query>/g)].map((m) => m[1]!.trim()),
    },
  ]),
);
const chProfiles = children(section('profiles'));
const readonlyLevel = (profile: string | null) => Number(/<readonly>(\d)<\/readonly>/.exec(chProfiles.get(profile ?? '') ?? '')?.[1] ?? 0);

/** Which ClickHouse user each service logs in as (CLICKHOUSE_USER in its environment). */
const SERVICE_USERS: Record<string, string> = {
  'agentdrift-migrate': 'agentdrift_migrate',
  agentdrift: 'agentdrift',
  'otel-collector': 'otel_collector',
  grafana: 'grafana',
};

describe('least privilege: one ClickHouse user per job', () => {
  const db = agentdriftConfig.config!.clickhouse.target.database;
  const tables = agentdriftConfig.config!.tables;

  it('the users file is mounted into the server, which no longer creates a shared admin account', () => {
    expect(hostPathOf(services.clickhouse!, '/etc/clickhouse-server/users.d/agentdrift-users.xml')).toBe(resolve(ROOT, USERS_FILE));
    const env = environment(services.clickhouse!);
    for (const v of ['CLICKHOUSE_USER', 'CLICKHOUSE_PASSWORD', 'CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT']) expect(env[v], v).toBeUndefined();
    expect(usersXml).not.toMatch(/access_management/);
    expect([...chUsers.keys()].sort()).toEqual(['agentdrift', 'agentdrift_migrate', 'default', 'grafana', 'otel_collector']);
  });

  it('each service logs in as its own user, with that user\'s password from .env', () => {
    const serverEnv = environment(services.clickhouse!);
    const raw = (parse(composeText) as Compose).services;
    for (const [service, user] of Object.entries(SERVICE_USERS)) {
      const env = environment(services[service]!);
      expect(env.CLICKHOUSE_USER, service).toBe(user);
      const u = chUsers.get(user)!;
      expect(u.plainPassword, `${user} has a password written in the file`).toBe(false);
      expect(u.passwordEnv, `${user} takes no password from the environment`).toMatch(/^CLICKHOUSE_[A-Z]+_PASSWORD$/);
      // The service and the server read the same .env variable, which compose requires to be set.
      expect(environment(raw[service]!).CLICKHOUSE_PASSWORD, service).toMatch(new RegExp(`^\\$\\{${u.passwordEnv}:\\?`));
      expect(environment(raw.clickhouse!)[u.passwordEnv!], user).toMatch(new RegExp(`^\\$\\{${u.passwordEnv}:\\?`));
      expect(serverEnv[u.passwordEnv!]).toBe(dotenv[u.passwordEnv!]);
    }
    const passwords = Object.values(SERVICE_USERS).map((u) => dotenv[chUsers.get(u)!.passwordEnv!]);
    expect(new Set(passwords).size).toBe(passwords.length);
  });

  it.each([
    // user, exact grants, readonly level of its profile
    ['agentdrift_migrate', [`GRANT CREATE DATABASE, CREATE TABLE, CREATE VIEW, DROP TABLE, DROP VIEW, TRUNCATE, ALTER, INSERT, SELECT ON ${db}.*`], 0],
    ['agentdrift', [`GRANT SELECT ON ${db}.*`], 2],
    ['otel_collector', [`GRANT INSERT ON ${db}.${tables.otelTraces}`, `GRANT INSERT ON ${db}.${tables.agentRuns}`], 0],
    ['grafana', [`GRANT SELECT ON ${db}.*`], 2],
  ])('%s may do exactly what its job needs', (user, grants, readonly) => {
    const u = chUsers.get(user)!;
    expect(u.grants).toEqual(grants);
    expect(readonlyLevel(u.profile)).toBe(readonly);
    expect(u.networks).toEqual(['::/0']);
  });

  it('only the migrate user may change the schema; the readers may only SELECT', () => {
    for (const [user, u] of chUsers) {
      const privileges = u.grants.join(' ');
      if (user !== 'agentdrift_migrate') expect(privileges, user).not.toMatch(/CREATE|DROP|ALTER|TRUNCATE|ALL/);
      if (user === 'agentdrift' || user === 'grafana') expect(privileges, user).not.toMatch(/INSERT/);
      expect(privileges, user).not.toMatch(/ON \*\.\*|WITH GRANT OPTION/);
    }
  });

  it('default has no password, so it answers inside the container only', () => {
    const d = chUsers.get('default')!;
    expect(d.networks.sort()).toEqual(['127.0.0.1', '::1']);
    expect(d.body).toMatch(/<networks replace="replace">/);
    expect(d.grants).toEqual([]);
  });

  it('the daemon neither migrates nor seeds; the one-shot migrate service does both, then the others start', () => {
    const cmd = agentdriftService.command as string[];
    expect(cmd).not.toContain('--migrate');
    expect(cmd).not.toContain('--demo');
    expect(agentdriftConfig.config!.demo.seedIfEmpty).toBe(false);
    const migrate = services['agentdrift-migrate']!;
    const script = ([] as string[]).concat(migrate.command ?? []).join(' ');
    expect(script).toMatch(/agentdrift\.js migrate --config \/etc\/agentdrift\/agentdrift\.yaml &&/);
    expect(script).toMatch(/if \[ "true" = true \]; then node \/app\/bin\/agentdrift\.js demo seed --if-empty --config/);
    expect((migrate as { restart?: string }).restart).toBe('no');
    expect(hostPathOf(migrate, '/etc/agentdrift/agentdrift.yaml')).toBe(agentdriftConfigFile);
    for (const s of ['agentdrift', 'otel-collector']) {
      expect(services[s]!.depends_on, s).toMatchObject({ 'agentdrift-migrate': { condition: 'service_completed_successfully' } });
    }
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const lines = text.split('\n');
  const instructions = lines.filter((l) => /^[A-Z]+\s/.test(l));
  const stages = instructions.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('FROM '));

  it('runs on a supported Node LTS line that package.json allows', () => {
    const majors = stages.map(([l]) => Number(/^FROM node:(\d+)[-.]/.exec(l)?.[1]));
    expect(majors.length).toBeGreaterThan(0);
    // Node 20 reached its end of life in April 2026; 22 and 24 are the maintained LTS lines.
    for (const m of majors) expect([22, 24], `FROM node:${m}`).toContain(m);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    const min = Number(/^>=\s*(\d+)/.exec(engines)?.[1]);
    for (const m of majors) expect(m).toBeGreaterThanOrEqual(min);
  });

  it('builds in stages and runs as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const lastStage = instructions.slice(stages.at(-1)![1]);
    const user = lastStage.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user, 'the runtime stage sets no USER').toBeDefined();
    expect(user!.split(/\s+/)[1]).not.toMatch(/^(root|0)(:|$)/);
    expect(lastStage).toEqual(expect.arrayContaining([expect.stringMatching(/^EXPOSE 9464$/), expect.stringMatching(/^HEALTHCHECK /)]));
    expect(text).toMatch(/npm ci --omit=dev --omit=optional/);
  });

  it('copies only what exists and what .dockerignore lets into the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'));
    for (const l of instructions.filter((x) => x.startsWith('COPY ') && !x.includes('--from=') && !x.includes('<<'))) {
      const sources = l.replace(/^COPY\s+/, '').split(/\s+/).filter((w) => !w.startsWith('--')).slice(0, -1);
      for (const src of sources) {
        expect(existsSync(resolve(ROOT, src)), `${l}: ${src} does not exist`).toBe(true);
        expect(ignored, `${l}: ${src} is excluded by .dockerignore`).not.toContain(src.replace(/\/$/, ''));
      }
    }
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'data', '.env']));
  });

  it("ships a default config that agentdrift accepts", () => {
    const m = /COPY <<'EOF' (\S+)\n([\s\S]*?)\nEOF\n/.exec(text);
    expect(m, 'no default config in the image').not.toBeNull();
    const r = parseConfigText(m![2]!, m![1]!, { AGENTDRIFT_CLICKHOUSE_TARGET: 'http://clickhouse:8123/agentdrift' });
    expect(r.problems).toEqual([]);
    expect(r.config!.listen.port).toBe(9464);
  });
});

// Docker is not part of CI; where the compose plugin is installed, let it have the last word.
const dockerCompose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
const haveCompose = dockerCompose.status === 0;
if (!haveCompose) console.warn('skipping `docker compose config`: the docker compose plugin is not installed');
describe.skipIf(!haveCompose)('docker compose config', () => {
  it('accepts the file with .env.example', () => {
    const r = spawnSync('docker', ['compose', '--env-file', '.env.example', '-f', 'docker-compose.yml', 'config', '--quiet'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });
});
