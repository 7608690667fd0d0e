/** `demo seed` into a store that may hold data: what each mode does (the CLI test runs them for real). */
import { describe, expect, it } from 'vitest';
import { seedDecision, type SeedDecision, type SeedMode } from '../../src/demo/seed.js';

const EMPTY = { runs: 0, spans: 0 };
const RUNS = { runs: 170_000, spans: 170_100 };
const SPANS_ONLY = { runs: 0, spans: 12 }; // spans of other services, no agent runs: still not empty

describe('seedDecision', () => {
  it.each<[string, { runs: number; spans: number }, SeedMode, SeedDecision]>([
    ['empty store, no flag', EMPTY, 'refuse', 'seed'],
    ['empty store, --append', EMPTY, 'append', 'seed'],
    ['empty store, --reset (nothing to delete)', EMPTY, 'reset', 'seed'],
    ['empty store, --if-empty', EMPTY, 'if-empty', 'seed'],
    ['seeded store, no flag: refuses (it used to double every run)', RUNS, 'refuse', 'refuse'],
    ['seeded store, --append', RUNS, 'append', 'seed'],
    ['seeded store, --reset', RUNS, 'reset', 'reset-then-seed'],
    ['seeded store, --if-empty', RUNS, 'if-empty', 'skip'],
    ['spans but no runs, no flag', SPANS_ONLY, 'refuse', 'refuse'],
    ['spans but no runs, --if-empty', SPANS_ONLY, 'if-empty', 'skip'],
  ])('%s', (_name, contents, mode, expected) => {
    expect(seedDecision(contents, mode)).toBe(expected);
  });
});
