/**
 * The alert state machine for one series: a pure function of the previous record, one evaluation's
 * outcome and the evaluation time (modelled on Prometheus rules/alerting.go and Grafana ngalert state).
 * Being pure lets the scheduler, a restart and a backtest all drive it the same way.
 */
import { formatDuration } from '../yaml/duration.js';
import type { AlertRecord, AlertState, Health, Outcome, Transition } from './types.js';

/** Prometheus keeps resolved alerts this long (resolvedRetention) so every receiver sees the resolution. */
export const DEFAULT_RESOLVED_RETENTION_MS = 15 * 60_000;

export interface StepOptions {
  /** How long a resolved series stays `resolved` before it goes back to `inactive`. */
  readonly resolvedRetentionMs?: number;
  /**
   * keep_firing_for (as in Prometheus): a firing series whose condition turns false keeps firing until
   * the condition has been false this long, so a signal that dips under its threshold for one
   * evaluation does not resolve and fire again (flapping).
   */
  readonly keepFiringForMs?: number;
}

export interface StepResult {
  readonly record: AlertRecord;
  /** Exactly one per change of state; null when the state did not change. */
  readonly transition: Transition | null;
}

/** The record of a series never seen before. */
export function inactiveRecord(at: number): AlertRecord {
  return { state: 'inactive', activeAt: null, firedAt: null, resolvedAt: null, lastEvalAt: at, health: 'ok', lastError: null };
}

interface Move {
  readonly to: AlertState;
  readonly activeAt: number | null;
  readonly firedAt: number | null;
  readonly resolvedAt: number | null;
  readonly reason: string;
}

export function step(
  prev: AlertRecord | undefined,
  outcome: Outcome,
  at: number,
  forMs: number,
  opts: StepOptions = {},
): StepResult {
  const retentionMs = opts.resolvedRetentionMs ?? DEFAULT_RESOLVED_RETENTION_MS;
  // A NaN here would silently compare false forever and freeze a series in pending.
  if (!Number.isFinite(at)) throw new RangeError(`evaluation time must be a finite number of ms, got ${at}`);
  if (!(forMs >= 0) || !Number.isFinite(forMs)) throw new RangeError(`for must be a finite duration >= 0 ms, got ${forMs}`);
  if (!(retentionMs >= 0) || !Number.isFinite(retentionMs)) {
    throw new RangeError(`resolvedRetentionMs must be a finite duration >= 0 ms, got ${retentionMs}`);
  }

  const keepMs = opts.keepFiringForMs ?? 0;
  if (!(keepMs >= 0) || !Number.isFinite(keepMs)) throw new RangeError(`keep_firing_for must be a finite duration >= 0 ms, got ${keepMs}`);

  const p = prev ?? inactiveRecord(at);
  const health: Health = outcome.kind;
  const lastError = outcome.kind === 'error' ? outcome.message : null;
  if (p.state === 'firing' && outcome.kind === 'ok') {
    if (outcome.active) {
      // True again: a keep_firing_for countdown that had started is void.
      return { record: { ...p, lastEvalAt: at, health, lastError, keepFiringSince: null }, transition: null };
    }
    const since = p.keepFiringSince ?? at;
    if (keepMs > 0 && at - since < keepMs) {
      return { record: { ...p, lastEvalAt: at, health, lastError, keepFiringSince: since }, transition: null };
    }
  }
  const move = decide(p, outcome, at, forMs, retentionMs);

  if (move === null) {
    return { record: { ...p, lastEvalAt: at, health, lastError }, transition: null };
  }
  return {
    record: {
      state: move.to,
      activeAt: move.activeAt,
      firedAt: move.firedAt,
      resolvedAt: move.resolvedAt,
      lastEvalAt: at,
      health,
      lastError,
    },
    transition: { from: p.state, to: move.to, at, reason: move.reason },
  };
}

function decide(p: AlertRecord, outcome: Outcome, at: number, forMs: number, retentionMs: number): Move | null {
  switch (outcome.kind) {
    case 'ok':
      return outcome.active ? whenTrue(p, at, forMs) : whenFalse(p, at, retentionMs);
    case 'nodata':
      // Missing data is no evidence that the drift is gone, so a firing alert keeps firing; a pending
      // timer is dropped because the condition was not seen true for the whole `for`.
      if (p.state === 'firing' || p.state === 'nodata') return null;
      return cleared('nodata', outcome.reason ?? 'too few runs');
    case 'error':
      // A failed query says nothing about the condition: never resolve, never promote, keep the timer.
      if (p.state === 'firing' || p.state === 'pending' || p.state === 'error') return null;
      return cleared('error', `query failed: ${outcome.message}`);
  }
}

function whenTrue(p: AlertRecord, at: number, forMs: number): Move | null {
  switch (p.state) {
    case 'firing':
      return null;
    case 'pending': {
      // A pending record always has activeAt; falling back to `at` restarts the timer rather than firing early.
      const activeAt = p.activeAt ?? at;
      const heldMs = at - activeAt;
      if (heldMs < forMs) return null;
      return { to: 'firing', activeAt, firedAt: at, resolvedAt: null, reason: `condition true for ${formatDuration(heldMs)}` };
    }
    default:
      // A new episode: whatever the earlier one left (resolvedAt, firedAt) no longer describes it.
      if (forMs === 0) return { to: 'firing', activeAt: at, firedAt: at, resolvedAt: null, reason: 'condition true' };
      return {
        to: 'pending',
        activeAt: at,
        firedAt: null,
        resolvedAt: null,
        reason: `condition true, firing if it holds for ${formatDuration(forMs)}`,
      };
  }
}

function whenFalse(p: AlertRecord, at: number, retentionMs: number): Move | null {
  switch (p.state) {
    case 'inactive':
      return null;
    case 'firing':
      // activeAt and firedAt stay so the resolution can say how long the alert fired.
      return { to: 'resolved', activeAt: p.activeAt, firedAt: p.firedAt, resolvedAt: at, reason: 'condition false' };
    case 'resolved': {
      const resolvedAt = p.resolvedAt ?? at;
      const sinceMs = at - resolvedAt;
      if (sinceMs < retentionMs) return null;
      return cleared('inactive', `resolved ${formatDuration(sinceMs)} ago`);
    }
    default:
      return cleared('inactive', 'condition false');
  }
}

function cleared(to: AlertState, reason: string): Move {
  return { to, activeAt: null, firedAt: null, resolvedAt: null, reason };
}
