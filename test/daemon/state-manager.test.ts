/**
 * The state manager owns the commit order: an evaluation's transitions are handed to the dispatcher
 * held, the state file is saved (coalesced), and only then may the sends leave. Also the one writer
 * of clickhouse_up. A fake engine, dispatcher and save record the order of every step.
 */
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import type { GroupResult, RuleEvaluation, TransitionEvent } from '../../src/engine/types.js';
import { silentLogger } from '../../src/log.js';
import { StateManager } from '../../src/daemon/stateManager.js';
import type { RuleGroup } from '../../src/rules/types.js';

const GROUP = { name: 'g', rules: [] } as unknown as RuleGroup;
const event = (id: string) => ({ series: { id }, transition: { from: 'pending', to: 'firing', at: 0 } }) as unknown as TransitionEvent;

function rig(opts: { errors?: boolean; evaluations?: number; saveFails?: boolean } = {}) {
  const log: string[] = [];
  let saves = 0;
  let releaseSave: (() => void) | null = null;
  let holdSaves = false;
  const engine = {
    evaluateGroup: async (): Promise<GroupResult> => {
      log.push('evaluate');
      const evaluations = Array.from({ length: opts.evaluations ?? 1 }, () => ({ error: opts.errors ? 'down' : null }) as RuleEvaluation);
      return { group: 'g', at: 0, ok: !opts.errors, durationMs: 1, evaluations, skipped: [], ruleCount: 1, transitions: [event('a')] };
    },
    accept: async () => [event('b')],
    adoptRuleSet: () => ({ dropped: [], retired: [] }),
    retireDeparted: () => ({ dropped: ['x'], retired: [event('x')] }),
    firing: () => [],
    snapshot: () => [],
    ruleSet: null,
    nextDepartureAt: null,
    restore: () => undefined,
  } as unknown as Engine;
  let holds = 0;
  const dispatcher = {
    hold: () => {
      const n = ++holds;
      log.push(`hold ${n}`);
      return () => log.push(`release ${n}`);
    },
    snapshot: () => [],
    restore: () => undefined,
  };
  const up: boolean[] = [];
  const manager = new StateManager({
    engine,
    dispatcher,
    notify: (u) => log.push(`notify ${u.transitions.map((t) => t.series.id).join(',')}`),
    save: async () => {
      const n = ++saves;
      log.push(`save ${n} start`);
      if (holdSaves) await new Promise<void>((r) => (releaseSave = r));
      log.push(`save ${n} end`);
      if (opts.saveFails) throw new Error('disk full');
    },
    clickhouseUp: (ok) => up.push(ok),
    logger: silentLogger,
  });
  return {
    manager,
    log,
    up,
    blockSaves: () => (holdSaves = true),
    finishSave: () => {
      holdSaves = false;
      releaseSave?.();
    },
  };
}

describe('StateManager: evaluate, save, then send', () => {
  it('an evaluation: applied, handed over held, saved, then released', async () => {
    const r = rig();
    await r.manager.evaluateGroup(GROUP, 0);
    expect(r.log).toEqual(['evaluate', 'hold 1', 'notify a', 'save 1 start', 'save 1 end', 'release 1']);
  });

  it('commits asked for during a save are saved once, after it, and each is released by the save that covers it', async () => {
    const r = rig();
    r.blockSaves();
    const first = r.manager.evaluateGroup(GROUP, 0);
    await new Promise((res) => setTimeout(res, 0));
    const second = r.manager.accept('A', {}, 'why', 0);
    const third = r.manager.retireDeparted(0);
    await new Promise((res) => setTimeout(res, 0));
    r.finishSave();
    await Promise.all([first, second, third]);
    expect(r.log).toEqual([
      'evaluate',
      'hold 1',
      'notify a',
      'save 1 start',
      // retireDeparted applies at once; accept awaits the engine first.
      'hold 2',
      'notify x',
      'hold 3',
      'notify b',
      'save 1 end',
      'release 1',
      'save 2 start',
      'save 2 end',
      'release 2',
      'release 3',
    ]);
  });

  it('a failed save still releases the sends (alerts go out; the save health says the state is not saved)', async () => {
    const r = rig({ saveFails: true });
    await r.manager.evaluateGroup(GROUP, 0);
    expect(r.log.at(-1)).toBe('release 1');
  });

  it('nothing to commit (an accept that matched nothing): no hold, no save', async () => {
    const r = rig();
    const engine = { accept: async () => [] } as unknown as Engine;
    const m = new StateManager({ engine, dispatcher: { hold: () => () => undefined, snapshot: () => [], restore: () => undefined }, notify: () => r.log.push('notify'), save: async () => void r.log.push('save'), clickhouseUp: () => undefined, logger: silentLogger });
    expect(await m.accept('A', {}, 'x', 0)).toEqual([]);
    expect(r.log).toEqual([]);
  });
});

describe('StateManager: the one writer of clickhouse_up', () => {
  it.each([
    { name: 'every query answered: up', errors: false, evaluations: 2, want: [true] },
    { name: 'a query failed: down', errors: true, evaluations: 1, want: [false] },
    { name: 'nothing evaluated (cut by the timeout): no word', errors: false, evaluations: 0, want: [] },
  ])('$name', async ({ errors, evaluations, want }) => {
    const r = rig({ errors, evaluations });
    await r.manager.evaluateGroup(GROUP, 0);
    expect(r.up).toEqual(want);
  });

  it('pings say it too', () => {
    const r = rig();
    r.manager.observePing(false);
    r.manager.observePing(true);
    expect(r.up).toEqual([false, true]);
  });
});
