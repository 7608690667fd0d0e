import { describe, expect, it } from 'vitest';
import { DEFAULT_RESOLVED_RETENTION_MS, inactiveRecord, step } from '../../src/alerting/machine.js';
import type { AlertRecord, AlertState, Outcome } from '../../src/alerting/types.js';

const T: Outcome = { kind: 'ok', active: true };
const F: Outcome = { kind: 'ok', active: false };
const ND: Outcome = { kind: 'nodata' };
const ERR = (message = 'connect ECONNREFUSED 127.0.0.1:8123'): Outcome => ({ kind: 'error', message });

const MIN = 60_000;
const m = (n: number): number => n * MIN;

/** Fields of the record (times in minutes, as in the table) and the transition reason to check on a row. */
interface Check {
  activeAt?: number | null;
  firedAt?: number | null;
  resolvedAt?: number | null;
  reason?: string;
}

/** [time in minutes, outcome, expected state, expected transition target (null: no transition), checks] */
type Row = [number, Outcome, AlertState, AlertState | null, Check?];

interface Case {
  name: string;
  forMs: number;
  resolvedRetentionMs?: number;
  keepFiringForMs?: number;
  rows: Row[];
}

const cases: Case[] = [
  {
    name: 'for not yet elapsed: stays pending',
    forMs: m(30),
    rows: [
      [0, T, 'pending', 'pending', { activeAt: 0, firedAt: null, reason: 'condition true, firing if it holds for 30m' }],
      [10, T, 'pending', null, { activeAt: 0 }],
      [29, T, 'pending', null, { activeAt: 0, firedAt: null }],
    ],
  },
  {
    name: 'for exactly elapsed: fires at activeAt + for, once',
    forMs: m(30),
    rows: [
      [0, F, 'inactive', null],
      [5, T, 'pending', 'pending', { activeAt: 5 }],
      [20, T, 'pending', null],
      [35, T, 'firing', 'firing', { activeAt: 5, firedAt: 35, reason: 'condition true for 30m' }],
      [50, T, 'firing', null, { activeAt: 5, firedAt: 35 }],
      [65, T, 'firing', null, { firedAt: 35 }],
    ],
  },
  {
    name: 'for elapsed between two evaluations: fires at the first evaluation after, reason says how long',
    forMs: m(30),
    rows: [
      [0, T, 'pending', 'pending'],
      [25, T, 'pending', null],
      [40, T, 'firing', 'firing', { activeAt: 0, firedAt: 40, reason: 'condition true for 40m' }],
    ],
  },
  {
    name: 'for 0: fires on the first true evaluation, no pending step',
    forMs: 0,
    rows: [
      [0, F, 'inactive', null],
      [5, T, 'firing', 'firing', { activeAt: 5, firedAt: 5, reason: 'condition true' }],
      [10, T, 'firing', null],
      [15, F, 'resolved', 'resolved', { resolvedAt: 15 }],
      [20, T, 'firing', 'firing', { activeAt: 20, firedAt: 20, resolvedAt: null }],
    ],
  },
  {
    name: 'condition flapping during pending: every false restarts the timer',
    forMs: m(30),
    rows: [
      [0, T, 'pending', 'pending', { activeAt: 0 }],
      [10, F, 'inactive', 'inactive', { activeAt: null, reason: 'condition false' }],
      [20, T, 'pending', 'pending', { activeAt: 20 }],
      // 30 minutes after the first activeAt: the old timer must not count.
      [30, T, 'pending', null, { activeAt: 20 }],
      [40, F, 'inactive', 'inactive'],
      [45, T, 'pending', 'pending', { activeAt: 45 }],
      [75, T, 'firing', 'firing', { activeAt: 45, firedAt: 75, reason: 'condition true for 30m' }],
    ],
  },
  {
    name: 'no data during pending: the timer is dropped',
    forMs: m(30),
    rows: [
      [0, T, 'pending', 'pending', { activeAt: 0 }],
      [10, ND, 'nodata', 'nodata', { activeAt: null, reason: 'too few runs' }],
      [20, ND, 'nodata', null],
      [25, T, 'pending', 'pending', { activeAt: 25 }],
      [40, T, 'pending', null],
      [55, T, 'firing', 'firing', { activeAt: 25, firedAt: 55 }],
    ],
  },
  {
    name: 'no data during firing: keeps firing, then resolves on a false evaluation',
    forMs: m(30),
    rows: [
      [0, T, 'pending', 'pending'],
      [30, T, 'firing', 'firing', { firedAt: 30 }],
      [40, ND, 'firing', null, { activeAt: 0, firedAt: 30 }],
      [50, ND, 'firing', null, { firedAt: 30 }],
      [60, T, 'firing', null, { firedAt: 30 }],
      [70, ND, 'firing', null],
      [80, F, 'resolved', 'resolved', { activeAt: 0, firedAt: 30, resolvedAt: 80, reason: 'condition false' }],
    ],
  },
  {
    name: 'error during firing: stays firing through a long outage, never resolved by it',
    forMs: m(30),
    rows: [
      [0, T, 'pending', 'pending'],
      [30, T, 'firing', 'firing'],
      [40, ERR(), 'firing', null, { firedAt: 30, resolvedAt: null }],
      [50, ERR('timeout after 30000 ms'), 'firing', null, { firedAt: 30 }],
      [120, ERR(), 'firing', null, { firedAt: 30, resolvedAt: null }],
      [600, ERR(), 'firing', null, { firedAt: 30, resolvedAt: null }],
      [610, T, 'firing', null, { activeAt: 0, firedAt: 30 }],
      [620, F, 'resolved', 'resolved', { resolvedAt: 620 }],
    ],
  },
  {
    name: 'error during pending: keeps the timer but only a true evaluation can promote',
    forMs: m(30),
    rows: [
      [0, T, 'pending', 'pending', { activeAt: 0 }],
      [10, ERR(), 'pending', null, { activeAt: 0 }],
      [30, ERR(), 'pending', null, { activeAt: 0, firedAt: null }],
      [45, ERR(), 'pending', null, { activeAt: 0, firedAt: null }],
      [50, T, 'firing', 'firing', { activeAt: 0, firedAt: 50, reason: 'condition true for 50m' }],
    ],
  },
  {
    name: 'error during pending then false: back to inactive',
    forMs: m(30),
    rows: [
      [0, T, 'pending', 'pending'],
      [10, ERR(), 'pending', null],
      [20, F, 'inactive', 'inactive', { activeAt: null }],
    ],
  },
  {
    name: 'recovery after error: error is a state of its own, left by the next real outcome',
    forMs: m(30),
    rows: [
      [0, F, 'inactive', null],
      [5, ERR('timeout'), 'error', 'error', { reason: 'query failed: timeout' }],
      [10, ERR('socket hang up'), 'error', null],
      [15, T, 'pending', 'pending', { activeAt: 15, reason: 'condition true, firing if it holds for 30m' }],
      [45, T, 'firing', 'firing', { activeAt: 15, firedAt: 45 }],
      [50, F, 'resolved', 'resolved'],
      [55, ERR(), 'error', 'error', { activeAt: null, firedAt: null, resolvedAt: null }],
      [60, F, 'inactive', 'inactive', { reason: 'condition false' }],
      [65, ERR(), 'error', 'error'],
      [70, ND, 'nodata', 'nodata'],
      [75, ERR(), 'error', 'error'],
    ],
  },
  {
    name: 'resolve then re-fire: a new episode with its own timer',
    forMs: m(30),
    rows: [
      [0, T, 'pending', 'pending'],
      [30, T, 'firing', 'firing', { activeAt: 0, firedAt: 30 }],
      [40, F, 'resolved', 'resolved', { activeAt: 0, firedAt: 30, resolvedAt: 40 }],
      [45, T, 'pending', 'pending', { activeAt: 45, firedAt: null, resolvedAt: null }],
      [60, T, 'pending', null],
      [75, T, 'firing', 'firing', { activeAt: 45, firedAt: 75 }],
      [80, F, 'resolved', 'resolved', { resolvedAt: 80 }],
    ],
  },
  {
    name: 'resolved retention (default 15m): resolved until it expires, then inactive',
    forMs: m(30),
    rows: [
      [0, T, 'pending', 'pending'],
      [30, T, 'firing', 'firing'],
      [40, F, 'resolved', 'resolved', { resolvedAt: 40 }],
      [50, F, 'resolved', null, { resolvedAt: 40 }],
      [54, F, 'resolved', null],
      [55, F, 'inactive', 'inactive', { activeAt: null, firedAt: null, resolvedAt: null, reason: 'resolved 15m ago' }],
      [60, F, 'inactive', null],
    ],
  },
  {
    name: 'resolved retention 0: resolved is still reported once, then inactive',
    forMs: 0,
    resolvedRetentionMs: 0,
    rows: [
      [0, T, 'firing', 'firing'],
      [1, F, 'resolved', 'resolved'],
      [2, F, 'inactive', 'inactive'],
    ],
  },
  {
    name: 'no data after resolved, then false: nodata, then inactive',
    forMs: 0,
    rows: [
      [0, T, 'firing', 'firing'],
      [5, F, 'resolved', 'resolved'],
      [10, ND, 'nodata', 'nodata', { activeAt: null, firedAt: null, resolvedAt: null }],
      [15, F, 'inactive', 'inactive'],
    ],
  },
  {
    name: 'keep_firing_for: a dip under the threshold shorter than it does not resolve',
    forMs: 0,
    keepFiringForMs: m(15),
    rows: [
      [0, T, 'firing', 'firing', { firedAt: 0 }],
      [5, F, 'firing', null, { firedAt: 0, resolvedAt: null }],
      [10, F, 'firing', null],
      // True again before 15m of false: the countdown is void.
      [15, T, 'firing', null],
      [20, F, 'firing', null],
      [30, F, 'firing', null],
      // False since 20m: 15m of false reached at 35m, resolved then.
      [35, F, 'resolved', 'resolved', { firedAt: 0, resolvedAt: 35, reason: 'condition false' }],
    ],
  },
  {
    name: 'keep_firing_for: no data and errors neither start nor stop its countdown',
    forMs: 0,
    keepFiringForMs: m(10),
    rows: [
      [0, T, 'firing', 'firing'],
      [5, F, 'firing', null],
      [8, ND, 'firing', null],
      [9, ERR(), 'firing', null],
      [15, F, 'resolved', 'resolved', { resolvedAt: 15 }],
    ],
  },
  {
    name: 'a fresh series can start in nodata or error',
    forMs: m(30),
    rows: [
      [0, ND, 'nodata', 'nodata'],
      [1, ERR(), 'error', 'error'],
      [2, ND, 'nodata', 'nodata'],
      [3, F, 'inactive', 'inactive'],
    ],
  },
];

function expectedHealth(o: Outcome): string {
  return o.kind;
}

describe('step: table of (time, outcome) -> (state, transition)', () => {
  for (const c of cases) {
    it(c.name, () => {
      let rec: AlertRecord | undefined;
      const opts = {
        ...(c.resolvedRetentionMs === undefined ? {} : { resolvedRetentionMs: c.resolvedRetentionMs }),
        ...(c.keepFiringForMs === undefined ? {} : { keepFiringForMs: c.keepFiringForMs }),
      };
      c.rows.forEach(([t, outcome, state, to, check], i) => {
        const at = m(t);
        const where = `row ${i} (t=${t}m)`;
        const from = rec?.state ?? 'inactive';
        const { record, transition } = step(rec, outcome, at, c.forMs, opts);

        expect(record.state, where).toBe(state);
        expect(transition?.to ?? null, where).toBe(to);
        if (transition) {
          expect(transition, where).toMatchObject({ from, to: record.state, at });
          expect(transition.from, `${where}: a transition is a change`).not.toBe(transition.to);
        } else {
          expect(record.state, `${where}: no transition means no change`).toBe(from);
        }

        expect(record.lastEvalAt, where).toBe(at);
        expect(record.health, where).toBe(expectedHealth(outcome));
        expect(record.lastError, where).toBe(outcome.kind === 'error' ? outcome.message : null);

        if (check) {
          for (const f of ['activeAt', 'firedAt', 'resolvedAt'] as const) {
            const want = check[f];
            if (want !== undefined) expect(record[f], `${where}: ${f}`).toBe(want === null ? null : m(want));
          }
          if (check.reason !== undefined) expect(transition?.reason, `${where}: reason`).toBe(check.reason);
        }
        rec = record;
      });
    });
  }
});

describe('step', () => {
  it('treats an undefined previous record as a fresh inactive one', () => {
    const { record, transition } = step(undefined, F, 1000, m(30));
    expect(record).toEqual(inactiveRecord(1000));
    expect(transition).toBeNull();
  });

  it('uses the nodata reason when the outcome gives one', () => {
    const { transition } = step(undefined, { kind: 'nodata', reason: 'series absent from evaluation' }, 0, 0);
    expect(transition?.reason).toBe('series absent from evaluation');
  });

  it('does not mutate the previous record', () => {
    const prev = Object.freeze(step(undefined, T, 0, m(30)).record);
    const copy = { ...prev };
    step(prev, T, m(30), m(30));
    step(prev, ERR(), m(30), m(30));
    step(prev, F, m(30), m(30));
    expect(prev).toEqual(copy);
  });

  it('defaults resolved retention to 15 minutes', () => {
    expect(DEFAULT_RESOLVED_RETENTION_MS).toBe(m(15));
  });

  it('rejects a time or duration that would freeze a series', () => {
    expect(() => step(undefined, T, Number.NaN, 0)).toThrow(RangeError);
    expect(() => step(undefined, T, 0, -1)).toThrow(/for must be/);
    expect(() => step(undefined, T, 0, Number.NaN)).toThrow(/for must be/);
    expect(() => step(undefined, T, 0, 0, { resolvedRetentionMs: -5 })).toThrow(/resolvedRetentionMs/);
  });

  it('keeps its invariants over a long pseudo-random sequence', () => {
    // Deterministic LCG so a failure is reproducible.
    let seed = 42;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const outcomes = [T, T, T, F, F, ND, ERR()];
    const forMs = m(20);
    let rec: AlertRecord | undefined;
    let at = 0;
    let trueSince: number | null = null;
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      at += m(1 + Math.floor(rand() * 10));
      const o = outcomes[Math.floor(rand() * outcomes.length)]!;
      const prev = rec;
      const { record, transition } = step(prev, o, at, forMs);
      const from = prev?.state ?? 'inactive';
      seen.add(`${from}->${record.state}`);

      expect(transition !== null).toBe(record.state !== from);
      if (from === 'firing') expect(['firing', 'resolved']).toContain(record.state);
      if (record.state === 'resolved' && from === 'firing') expect(o).toEqual(F);
      if (o.kind === 'error' && (from === 'firing' || from === 'pending')) expect(record.state).toBe(from);
      if (record.state === 'firing' && from !== 'firing') {
        expect(o).toEqual(T);
        expect(from).toBe('pending');
        expect(at - record.activeAt!).toBeGreaterThanOrEqual(forMs);
      }
      if (record.state === 'pending' || record.state === 'firing') expect(record.activeAt).not.toBeNull();
      if (record.state === 'firing') expect(record.firedAt).not.toBeNull();

      // Pending can only reach firing if no false/nodata came in between (errors keep the timer).
      if (o.kind === 'ok' && o.active) trueSince ??= at;
      else if (o.kind !== 'error') trueSince = null;
      if (record.state === 'pending') expect(record.activeAt).toBe(trueSince);
      rec = record;
    }
    // The sequence actually exercised the interesting edges.
    for (const edge of ['pending->firing', 'firing->resolved', 'pending->nodata', 'resolved->pending', 'error->pending']) {
      expect(seen, edge).toContain(edge);
    }
  });
});
