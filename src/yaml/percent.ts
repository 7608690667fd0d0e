/**
 * Fractions written by people: `20%`, `12.5%`, or a plain fraction `0.2`. All mean 0.2.
 * The sign is accepted here so that range checks can say "must be greater than 0" instead of
 * a vaguer "not a percentage".
 */

import { ERR } from '../util/errors.js';
import { quote } from './problem.js';

const PERCENT_RE = /^([+-]?\d+(?:\.\d+)?)%$/;
const FRACTION_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

export const PERCENT_HINT = 'use e.g. 20%, 12.5% or a fraction like 0.2';

export class PercentError extends Error {
  override readonly name = 'PercentError';
  readonly errorCode = ERR.INVALID_PERCENT;
}

export function parsePercent(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new PercentError(`invalid percentage ${String(input)}: ${PERCENT_HINT}`);
    return input;
  }
  const text = input.trim();
  const p = PERCENT_RE.exec(text);
  if (p !== null) return Number(p[1]) / 100;
  if (FRACTION_RE.test(text)) return Number(text);
  throw new PercentError(`invalid percentage ${quote(input)}: ${PERCENT_HINT}`);
}

/** For messages: 0.2 -> "20%", 0.125 -> "12.5%". */
export function formatPercent(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(12))}%`;
}
