/**
 * A real Prometheus for integration tests, private to one test file: its own temp directory, config
 * and TSDB, listening on 127.0.0.1 on a free port and scraping one target every second.
 *
 * Debian bookworm ships Prometheus 2.42 as /usr/bin/prometheus (with promtool beside it); .ci/run
 * installs it. Its default console paths are relative and absent here, which it tolerates.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WaitTimeoutError, freePort, isExecutable, killProcess, spawnServer, stopProcess, waitForHttpReady, waitUntil } from './process.js';

export interface VectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PrometheusServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  query(promql: string): Promise<VectorSample[]>;
  /** Polls `promql` until `predicate` holds; throws with the last result and the target's health. */
  waitFor(promql: string, predicate: (result: VectorSample[]) => boolean, timeoutMs: number): Promise<VectorSample[]>;
  /** SIGTERM (SIGKILL after a grace period), then deletes the temp directory; safe to call twice. */
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** host:port to scrape, e.g. 127.0.0.1:9464. */
  readonly target: string;
  readonly metricsPath?: string;
  readonly readyTimeoutMs?: number;
}

/** Overridable so the skip/fail rule can be exercised on a machine that has the package. */
export function prometheusBinary(): string | undefined {
  const p = process.env.AGENTDRIFT_TEST_PROMETHEUS ?? '/usr/bin/prometheus';
  return isExecutable(p) ? p : undefined;
}

export function promtoolBinary(): string | undefined {
  const p = process.env.AGENTDRIFT_TEST_PROMTOOL ?? '/usr/bin/promtool';
  return isExecutable(p) ? p : undefined;
}

/**
 * Whether a test that needs `what` may be skipped: only on a developer machine without the package.
 * In CI (.ci/run installs it) a missing binary must fail loudly instead of passing vacuously.
 */
export function prometheusSkip(what: 'prometheus' | 'promtool'): { skip: boolean; reason: string } {
  const found = what === 'prometheus' ? prometheusBinary() : promtoolBinary();
  if (found) return { skip: false, reason: '' };
  return { skip: !process.env.CI, reason: `${what} is not installed (apt-get install prometheus, as .ci/run does)` };
}

/** Runs `promtool check metrics` on an exposition text; promtool reads it from stdin. */
export function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  const bin = promtoolBinary();
  if (!bin) throw new Error(prometheusSkip('promtool').reason);
  const r = spawnSync(bin, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

async function getJson(url: string, timeoutMs = 2_000): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}: ${body.slice(0, 500)}`);
  return JSON.parse(body) as unknown;
}

function configYaml(target: string, metricsPath: string): string {
  // JSON is YAML: no quoting rules to get wrong for the target and path.
  return JSON.stringify({
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: [{ job_name: 'agentdrift', metrics_path: metricsPath, static_configs: [{ targets: [target] }] }],
  });
}

export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  const bin = prometheusBinary();
  if (!bin) throw new Error(`cannot start Prometheus for the tests: ${prometheusSkip('prometheus').reason}`);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const dir = mkdtempSync(join(tmpdir(), 'agentdrift-prom-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, configYaml(opts.target, opts.metricsPath ?? '/metrics'));

  // A free port can be taken between probing and binding: retry with a new one.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const p = spawnServer(
      bin,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { cwd: dir, maxOutputChars: 50_000 },
    );
    const tail = (n = 3000) => {
      const output = p.output();
      return output.length > n ? `...${output.slice(-n)}` : output;
    };

    const ready = await waitForHttpReady(p, `${url}/-/ready`, readyTimeoutMs);
    if (!ready) {
      await killProcess(p.child);
      if (attempt < 2 && /address already in use/i.test(p.output())) continue;
      rmSync(dir, { recursive: true, force: true });
      const spawnError = p.spawnError();
      const why = spawnError ? `could not run ${bin}: ${spawnError.message}` : `prometheus did not become ready at ${url} within ${readyTimeoutMs} ms`;
      throw new Error(`${why}\n${tail()}`);
    }

    const query = async (promql: string): Promise<VectorSample[]> => {
      const body = (await getJson(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`)) as {
        status: string;
        data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
        error?: string;
      };
      if (body.status !== 'success' || !body.data) throw new Error(`query ${promql} failed: ${body.error ?? JSON.stringify(body)}`);
      if (body.data.resultType !== 'vector') throw new Error(`query ${promql} returned a ${body.data.resultType}, not a vector`);
      return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    };

    let stopping: Promise<void> | null = null;
    return {
      url,
      query,
      async waitFor(promql, predicate, timeoutMs) {
        let last: VectorSample[] = [];
        let lastError: unknown = null;
        try {
          return await waitUntil(
            async () => {
              try {
                last = await query(promql);
                lastError = null;
                return predicate(last) && last;
              } catch (err) {
                lastError = err;
                return undefined;
              }
            },
            { timeoutMs, intervalMs: 250, describe: `${promql} did not satisfy the predicate within ${timeoutMs} ms` },
          );
        } catch (err) {
          if (!(err instanceof WaitTimeoutError)) throw err;
          let targets = '';
          try {
            const t = (await getJson(`${url}/api/v1/targets`)) as { data?: { activeTargets?: { scrapeUrl: string; health: string; lastError: string }[] } };
            targets = JSON.stringify(t.data?.activeTargets?.map((a) => ({ url: a.scrapeUrl, health: a.health, lastError: a.lastError })));
          } catch (e) {
            targets = `(targets unavailable: ${(e as Error).message})`;
          }
          throw new Error(
            `${err.message}; last result ${JSON.stringify(last)}` +
              `${lastError ? `, last error ${(lastError as Error).message}` : ''}; targets ${targets}\n${tail()}`,
          );
        }
      },
      stop() {
        stopping ??= (async () => {
          await stopProcess(p.child, 15_000);
          rmSync(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  }
}
