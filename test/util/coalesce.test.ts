import { describe, expect, it } from 'vitest';
import { coalesce } from '../../src/util/coalesce.js';

describe('coalesce', () => {
  it('runs once for callers during a run, then once more with what changed; never two at a time', async () => {
    let value = 0;
    let active = 0;
    let maxActive = 0;
    const written: number[] = [];
    let release: (() => void)[] = [];
    const save = coalesce(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      const v = value;
      await new Promise<void>((r) => release.push(r));
      written.push(v);
      active--;
    });
    value = 1;
    const first = save();
    value = 2;
    const a = save();
    value = 3;
    const b = save();
    expect(a).toBe(b);
    release.shift()!();
    await first;
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    release.shift()!();
    await a;
    expect(written).toEqual([1, 3]);
    expect(maxActive).toBe(1);
    release = [];
  });

  it('a failed run does not stop the next one', async () => {
    let n = 0;
    const job = coalesce(async () => {
      n++;
      if (n === 1) throw new Error('disk full');
    });
    const first = job();
    const second = job();
    await expect(first).rejects.toThrow('disk full');
    await expect(second).resolves.toBeUndefined();
    expect(n).toBe(2);
  });
});
