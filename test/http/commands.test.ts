/** The bodies of POST /api/v1/commands/<name> (src/http/commandsHandler.ts): checked before any work, 400 naming the field. */
import { describe, expect, it, vi } from 'vitest';
import { commandOf, commandRunner, type CommandSources } from '../../src/http/commandsHandler.js';
import { httpStatusOf } from '../../src/util/errors.js';

const T = '2026-11-22T03:00:00Z';
const sources = (): CommandSources => ({
  eval: vi.fn(async (at: number) => ({ at: new Date(at).toISOString(), rows: [] })),
  explain: vi.fn(async () => ({ rule: { threshold: 0.2, direction: 'up' as const, significance: null, forMs: 0 }, series: [] })),
  backtest: vi.fn(async () => ({}) as never),
  status: vi.fn(async () => ({}) as never),
});

describe('commandOf', () => {
  it('names the four commands, nothing else', () => {
    expect(commandOf('/api/v1/commands/eval')).toBe('eval');
    expect(commandOf('/api/v1/commands/status')).toBe('status');
    expect(commandOf('/api/v1/commands/migrate')).toBeNull();
    expect(commandOf('/api/v1/commands/')).toBeNull();
  });
});

describe('commandRunner', () => {
  it('passes absolute times and the labels on', async () => {
    const src = sources();
    const run = commandRunner(src);
    await run('eval', { at: T });
    expect(src.eval).toHaveBeenCalledWith(Date.parse(T));
    await run('explain', { alertname: 'ToolCallsPerRunUp', match: { workflow_id: 'invoice_enrichment' }, at: T });
    expect(src.explain).toHaveBeenCalledWith('ToolCallsPerRunUp', { workflow_id: 'invoice_enrichment' }, Date.parse(T));
    await run('backtest', { from: '2026-11-21T03:00:00Z', to: T });
    expect(src.backtest).toHaveBeenCalledWith(Date.parse('2026-11-21T03:00:00Z'), Date.parse(T), null);
    await run('backtest', { from: '2026-11-21T03:00:00Z', to: T, step_seconds: 3600 });
    expect(src.backtest).toHaveBeenLastCalledWith(Date.parse('2026-11-21T03:00:00Z'), Date.parse(T), 3_600_000);
  });

  it.each([
    ['eval', {}, /^at: /],
    ['eval', { at: '-7d' }, /^at must be an ISO-8601 time such as 2026-11-22T03:00:00Z, got "-7d"$/],
    ['eval', { at: T, rules: 'x' }, /Unrecognized key/],
    ['explain', { match: {}, at: T }, /^alertname: /],
    ['backtest', { from: T, to: T }, /^--to must be after --from$/],
    ['status', { x: 1 }, /Unrecognized key/],
  ] as const)('%s %j: 400', async (name, body, message) => {
    const src = sources();
    const err = await commandRunner(src)(name, body).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(message);
    expect(httpStatusOf(err)).toBe(400);
    for (const f of Object.values(src)) expect(f).not.toHaveBeenCalled();
  });
});
