/**
 * The web UI in a real browser: Debian's chromium driven by playwright-core, against the daemon on the
 * pinned demo, with network to 127.0.0.1 only. The alerts page lists the firing alerts (the README table); the link
 * to ToolCallsPerRunUp (workflow_id=invoice_enrichment) shows the cause and its chart; accepting from
 * the page resolves the series; a POST from a page of another origin is refused. Screenshots go to
 * docs/img/ (docs/ui.md shows them).
 *
 * Without /usr/bin/chromium the test is skipped, with a message, except in CI (CI set), where it
 * fails: .ci/run installs chromium.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertId, readmeDemoAlerts } from '../helpers/demo.js';
import { startDemoDaemon, type DemoDaemon } from '../helpers/demoDaemon.js';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
const skip = !present && !process.env.CI;
if (skip) console.warn(`skipping the browser test of the web UI: ${CHROMIUM} is not installed (apt-get install chromium; in CI this fails)`);

const IMG = resolve(__dirname, '../../docs/img');

describe.skipIf(skip)('web UI in chromium', () => {
  let d: DemoDaemon;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let other: Server;

  beforeAll(async () => {
    if (!present) throw new Error(`${CHROMIUM} is missing: CI must install chromium (.ci/run APT_PACKAGES)`);
    d = await startDemoDaemon('ui');
    profile = mkdtempSync(join(tmpdir(), 'agentdrift-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      viewport: { width: 1280, height: 900 },
    });
    // The daemon and the test's own "other site" only: nothing leaves 127.0.0.1.
    await context.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
    page = context.pages()[0] ?? (await context.newPage());
    mkdirSync(IMG, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await new Promise<void>((r) => (other ? other.close(() => r()) : r()));
    await d?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('/ lists the firing alerts of the README table, each linking to its page', async () => {
    await page.goto(`${d.base}/`);
    const rows = page.locator('table[data-state="firing"] tr[data-series]');
    await expect.poll(() => rows.count()).toBe(readmeDemoAlerts().length);
    const names = await rows.evaluateAll((trs) =>
      trs.map((tr) => {
        const a = tr.querySelector('a')!;
        const u = new URL(a.href);
        return { alert: decodeURIComponent(u.pathname.replace('/alerts/', '')), workflowId: u.searchParams.get('workflow_id') ?? '', key: u.searchParams.get('tool') ?? '' };
      }),
    );
    expect(names.map(alertId).sort()).toEqual(readmeDemoAlerts().map(alertId).sort());
    expect(await page.locator('table[data-state="firing"] svg.spark').count()).toBe(readmeDemoAlerts().length);
    await page.screenshot({ path: join(IMG, 'ui-alerts.png'), fullPage: true });
  });

  it('the ToolCallsPerRunUp page shows the cause (prompt_version enrich-v13) and its chart', async () => {
    await page.goto(`${d.base}/`);
    await page.locator('table[data-state="firing"] a[href^="/alerts/ToolCallsPerRunUp?"]').click();
    await page.waitForURL(/\/alerts\/ToolCallsPerRunUp\?/);
    expect(new URL(page.url()).searchParams.get('workflow_id')).toBe('invoice_enrichment');
    const cause = page.locator('#cause');
    await expect.poll(() => cause.first().textContent()).toMatch(/prompt_version\s+enrich-v13 explains/);
    const chart = page.locator('svg#explanation-chart');
    expect(await chart.count()).toBe(1);
    expect(await chart.locator('line.onset').count()).toBe(1);
    expect(await chart.locator('path.line').getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+L/);
    expect(await page.locator('table.examples tr').count()).toBeGreaterThan(1);
    await page.screenshot({ path: join(IMG, 'ui-alert.png'), fullPage: true });
  });

  it('accepting from the page with a reason resolves the series', async () => {
    const url = `${d.base}/alerts/ToolCallsPerRunUp?tool=enrich_company&workflow_id=invoice_enrichment`;
    await page.goto(url);
    // Without a reason the browser does not submit (the textarea is required) and nothing is sent.
    await page.locator('#accept-button').click();
    expect(await page.locator('#accept-reason').evaluate((t) => (t as HTMLTextAreaElement).validity.valueMissing)).toBe(true);
    expect(await page.locator('h1 .state').textContent()).toBe('firing');
    await page.locator('#accept-reason').fill('enrich-v13 looks companies up twice on purpose');
    await Promise.all([page.waitForEvent('load'), page.locator('#accept-button').click()]);
    await expect.poll(() => page.locator('h1 .state').textContent()).toBe('resolved');
    expect(await page.locator('#accept-form').count()).toBe(0);
    const api = (await (await fetch(`${d.base}/api/v1/alerts/ToolCallsPerRunUp?workflow_id=invoice_enrichment&tool=enrich_company`)).json()) as { state: string; accepted: { reason: string } };
    expect(api).toMatchObject({ state: 'resolved', accepted: { reason: 'enrich-v13 looks companies up twice on purpose' } });
    await page.goto(`${d.base}/history`);
    expect(await page.locator('table.history tr').nth(1).textContent()).toMatch(/ToolCallsPerRunUp[\s\S]*firing[\s\S]*resolved[\s\S]*accepted as the new normal/);
  });

  it('a POST from a page of another origin is refused and changes nothing', async () => {
    // Another site: a page on another port of 127.0.0.1 whose form posts to the daemon (a form can
    // send text/plain cross-site without a preflight) and whose script tries fetch with JSON.
    const target = `${d.base}/api/v1/accept`;
    const body = JSON.stringify({ alertname: 'CostPerSuccessUp', match: { workflow_id: 'refund_processing' }, reason: 'evil' });
    other = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html><form id="f" method="post" action="${target}" enctype="text/plain"><input name='${body.slice(0, -2)}' value='"}'></form>
<script>window.fetchResult = fetch(${JSON.stringify(target)}, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: ${JSON.stringify(body)} }).then(r => 'status ' + r.status, e => 'blocked ' + e);</script>`);
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
    const otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    await page.goto(`${otherBase}/`);
    // The JSON fetch needs a preflight the daemon never grants.
    expect(await page.evaluate(() => (window as unknown as { fetchResult: Promise<string> }).fetchResult)).toMatch(/^blocked/);
    const [answer] = await Promise.all([page.waitForResponse((r) => r.url() === target), page.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit())]);
    expect(answer.status()).toBe(403);
    expect(await answer.text()).toMatch(/cross_origin/);
    // The same with a JSON body sent as the other origin.
    const forged = await context.request.post(target, { headers: { Origin: otherBase, 'Content-Type': 'application/json' }, data: body });
    expect(forged.status()).toBe(403);
    const state = (await (await fetch(`${d.base}/api/v1/alerts/CostPerSuccessUp?workflow_id=refund_processing`)).json()) as { state: string };
    expect(state.state).toBe('firing');
  });

  it('the rules page and a backtest preview drawn on a timeline', async () => {
    await page.goto(`${d.base}/rules`);
    expect(await page.locator('table.rules tr[id="ToolCallsPerRunUp"]').textContent()).toMatch(/agentdrift-default/);
    await page.screenshot({ path: join(IMG, 'ui-rules.png'), fullPage: true });
    await page.goto(`${d.base}/backtest`);
    await page.locator('#backtest-days').fill('7');
    await page.locator('#backtest-step').fill('2h');
    await page.locator('#backtest-form button').click();
    await page.locator('svg#backtest-timeline').waitFor({ timeout: 60_000 });
    expect(await page.locator('svg#backtest-timeline rect.firing').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(IMG, 'ui-backtest.png'), fullPage: true });
  }, 90_000);
});
