import { describe, expect, it } from 'vitest';
import { onlyKeyKinds } from '../../src/signals/keyKinds.js';
import type { SignalSums } from '../../src/signals/types.js';

const row = (key_kind: string, key: string, value: number) => ({ workflow_id: 'wf', w: 0, key_kind, key, value, value_sq: value * value, value_x_total: 0 });

describe('onlyKeyKinds', () => {
  const sums: SignalSums = {
    totals: [{ workflow_id: 'wf', w: 0, runs: 3 }],
    keyed: [row('tool', 'search', 4), row('duration', '80', 2), row('denied_rule', 'pii', 1), row('duration', '81', 1), row('pair', 'a\x1fb', 2)],
  };

  it.each([
    { kinds: ['denied_rule'], keys: ['pii'] },
    { kinds: ['tool', 'pair'], keys: ['search', 'a\x1fb'] },
    { kinds: ['duration'], keys: ['80', '81'] },
    { kinds: [], keys: [] },
  ] as const)('keeps the keyed rows of $kinds only, in their order', ({ kinds, keys }) => {
    const only = onlyKeyKinds(sums, kinds);
    expect(only.keyed.map((r) => r.key)).toEqual(keys);
    expect(only.totals).toBe(sums.totals);
  });

  it('gives the same array for the same rows and kinds, so merges of it stay shared between rules', () => {
    expect(onlyKeyKinds(sums, ['duration']).keyed).toBe(onlyKeyKinds(sums, ['duration']).keyed);
    expect(onlyKeyKinds(sums, ['duration']).keyed).not.toBe(onlyKeyKinds(sums, ['tool']).keyed);
  });

  it('hands back the sums themselves when no row is left out', () => {
    expect(onlyKeyKinds(sums, ['tool', 'pair', 'duration', 'denied_rule'])).toBe(sums);
  });
});
