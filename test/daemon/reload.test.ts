/**
 * A reload restarts only the groups it changed: an unchanged group keeps its runner on its grid
 * (no extra evaluation at the reload), a changed or new group starts and runs at once, a removed one
 * stops. planRunners and sameEvaluation as tables; then the real CLI daemon on the pinned demo.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRunners } from '../../src/daemon/daemon.js';
import { sameEvaluation } from '../../src/engine/scheduler.js';
import { parseRules } from '../../src/rules/load.js';
import type { RuleGroup } from '../../src/rules/types.js';
import { metricsUrlOf, runCli, scrapeValue, startCli, waitForEvaluations, type LiveProcess } from '../helpers/cli.js';
import { DEMO_END_ISO } from '../helpers/demo.js';

function group(name: string, opts: { interval?: string; threshold?: string; comment?: string } = {}): string {
  return [
    `${opts.comment ?? ''}`,
    `  - name: ${name}`,
    `    interval: ${opts.interval ?? '1h'}`,
    '    rules:',
    `      - alert: ${name}Tools`,
    '        signal: tool_calls_per_run',
    '        where: { environment: prod, workflow_id: invoice_enrichment }',
    `        threshold: ${opts.threshold ?? '20%'}`,
    '        min_runs: 50',
    '',
  ].join('\n');
}

const file = (...groups: string[]) => `groups:\n${groups.join('')}`;

function groupsOf(text: string, name = 'r.yaml'): RuleGroup[] {
  const r = parseRules([{ file: name, text }]);
  expect(r.problems).toEqual([]);
  return [...r.ruleSet!.groups];
}

describe('sameEvaluation / planRunners', () => {
  const base = groupsOf(file(group('a'), group('b')));
  const cases: { name: string; next: RuleGroup[]; kept: string[]; started: string[]; stopped: string[] }[] = [
    { name: 'nothing changed', next: base, kept: ['a', 'b'], started: [], stopped: [] },
    { name: 'only positions moved (a comment above)', next: groupsOf(file(group('a', { comment: '  # a comment\n' }), group('b'))), kept: ['a', 'b'], started: [], stopped: [] },
    { name: 'the same groups from another file', next: groupsOf(file(group('a'), group('b')), 'other.yaml'), kept: ['a', 'b'], started: [], stopped: [] },
    { name: 'a threshold changed in b', next: groupsOf(file(group('a'), group('b', { threshold: '30%' }))), kept: ['a'], started: ['b'], stopped: ['b'] },
    { name: 'the interval changed in a', next: groupsOf(file(group('a', { interval: '30m' }), group('b'))), kept: ['b'], started: ['a'], stopped: ['a'] },
    { name: 'b removed, c added', next: groupsOf(file(group('a'), group('c'))), kept: ['a'], started: ['c'], stopped: ['b'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const running = base.map((g) => ({ group: g }));
      const plan = planRunners(running, c.next);
      expect(plan.next.filter((p) => p.keep !== null).map((p) => p.group.name)).toEqual(c.kept);
      expect(plan.next.filter((p) => p.keep === null).map((p) => p.group.name)).toEqual(c.started);
      expect(plan.stop.map((r) => r.group.name)).toEqual(c.stopped);
      // A kept runner is handed the new definition (its rules are the new objects).
      for (const p of plan.next) if (p.keep !== null) expect(sameEvaluation(p.keep.group, p.group)).toBe(true);
    });
  }
});

describe('reload with the real daemon', () => {
  let cwd: string;
  let daemon: LiveProcess | null = null;

  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'agentdrift-reloadkeep-'));
    mkdirSync(join(cwd, 'rules'));
    writeFileSync(join(cwd, 'agentdrift.yaml'), 'listen: 127.0.0.1:0\nrules: [rules]\n');
    writeFileSync(join(cwd, 'rules', 'r.yaml'), file(group('steady'), group('edited')));
    const r = runCli(['demo', 'seed', '--end', DEMO_END_ISO], cwd);
    expect(r.code, r.stderr).toBe(0);
  }, 180_000);

  afterAll(() => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
  });

  it('an unchanged group is not re-run by the reload; the changed one is, at once', async () => {
    daemon = startCli(['start', '--now', DEMO_END_ISO], cwd);
    const metrics = await metricsUrlOf(daemon);
    // Hourly groups: after the run at start, nothing is due for the rest of the test.
    await waitForEvaluations(metrics, 'steady', 1, 60_000);
    await waitForEvaluations(metrics, 'edited', 1, 60_000);
    const evaluations = (g: string) => scrapeValue(metrics, `agentdrift_group_evaluations_total{group="${g}"}`);
    expect(await evaluations('steady')).toBe(1);
    expect(await evaluations('edited')).toBe(1);

    writeFileSync(join(cwd, 'rules', 'r.yaml'), file(group('steady', { comment: '  # moved down a line\n' }), group('edited', { threshold: '35%' })));
    daemon.child.kill('SIGHUP');
    await waitForEvaluations(metrics, 'edited', 2, 30_000);
    // Give a restarted 'steady' every chance to show its run at start.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await evaluations('steady')).toBe(1);
    expect(await evaluations('edited')).toBe(2);
    expect(daemon.lines.join('\n')).toMatch(/"restarted_groups":1[,}]/);

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  }, 180_000);
});
