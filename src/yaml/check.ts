/**
 * Strict reading of plain YAML data, Prometheus `rulefmt` style: every key must be known, every value
 * has one accepted shape, and each problem is recorded with its position while reading goes on, so
 * one pass reports everything that is wrong.
 */
import { DURATION_HINT, parseDuration } from './duration.js';
import { PERCENT_HINT, parsePercent } from './percent.js';
import { quote, type Problem } from './problem.js';
import { problemAt, type Anchor, type Path, type YamlSource } from './source.js';

export type Obj = Readonly<Record<string, unknown>>;

/** Reads one value; reports its own problems and returns undefined when the value is unusable. */
export type Reader<T> = (c: Checker, value: unknown, path: Path) => T | undefined;

export class Checker {
  readonly problems: Problem[] = [];
  private readonly substituted: ReadonlySet<string>;

  /** `substituted`: paths whose string came from variable substitution (see config/env.ts). */
  constructor(
    readonly source: YamlSource,
    substituted: readonly Path[] = [],
  ) {
    this.substituted = new Set(substituted.map((p) => JSON.stringify(p)));
  }

  /** Whether the value at `path` was produced by substitution, so a number may arrive as a string. */
  fromEnv(path: Path): boolean {
    return this.substituted.has(JSON.stringify(path));
  }

  report(path: Path, message: string, anchor: Anchor = 'value'): void {
    this.problems.push(problemAt(this.source, path, message, anchor));
  }

  /** A mapping whose keys must all be in `allowed`; unknown keys are reported at the key itself. */
  mapping(value: unknown, path: Path, what: string, allowed: readonly string[]): Obj | undefined {
    if (!isObj(value)) {
      this.report(path, `${what}: expected a mapping, got ${describe(value)}`);
      return undefined;
    }
    for (const k of Object.keys(value)) {
      if (!allowed.includes(k)) this.report([...path, k], unknownKeyMessage(k, what, allowed), 'key');
    }
    return value;
  }

  /**
   * Reads `obj[key]`. An absent or null value gives undefined (the caller's default applies), or a
   * problem when `required` names the thing that needs it.
   */
  field<T>(obj: Obj, path: Path, key: string, read: Reader<T>, required?: string): T | undefined {
    const present = Object.hasOwn(obj, key);
    const v = present ? obj[key] : undefined;
    if (v === undefined || v === null) {
      if (required !== undefined) {
        if (present) this.report([...path, key], `${key}: must not be empty`, 'key');
        else this.report(path, `${required} is missing required key "${key}"`);
      }
      return undefined;
    }
    return read(this, v, [...path, key]);
  }
}

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** "a string", "a list", ... for "expected X, got Y" messages; never the value itself (it may be a secret). */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return `a ${typeof v}`;
}

export { quote };

/**
 * How a path reads in a message: the keys after the innermost list entry that is a container,
 * e.g. ['groups', 0, 'rules', 1, 'baseline', 'previous'] -> "baseline.previous" and
 * [..., 'group_by', 2] -> "group_by[2]".
 */
export function labelOf(path: Path): string {
  let start = 0;
  for (let i = path.length - 2; i >= 0; i--) {
    if (typeof path[i] === 'number' && typeof path[i + 1] === 'string') {
      start = i + 1;
      break;
    }
  }
  let out = '';
  for (const seg of path.slice(start)) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

export function unknownKeyMessage(key: string, what: string, allowed: readonly string[]): string {
  const near = suggest(key, allowed);
  return near !== null
    ? `unknown key ${quote(key)} in ${what} (did you mean "${near}"?)`
    : `unknown key ${quote(key)} in ${what} (allowed: ${allowed.join(', ')})`;
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function suggest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d <= limit && d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

// ---- readers ---------------------------------------------------------------------------------------

export const str: Reader<string> = (c, v, path) => {
  if (typeof v === 'string') return v;
  const hint = typeof v === 'number' || typeof v === 'boolean' ? ' (quote it)' : '';
  c.report(path, `${labelOf(path)}: expected a string, got ${describe(v)}${hint}`);
  return undefined;
};

export const nonEmptyStr: Reader<string> = (c, v, path) => {
  const s = str(c, v, path);
  if (s !== undefined && s.trim() === '') {
    c.report(path, `${labelOf(path)}: must not be empty`);
    return undefined;
  }
  return s;
};

export const bool: Reader<boolean> = (c, v, path) => {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && c.fromEnv(path) && (v === 'true' || v === 'false')) return v === 'true';
  c.report(path, `${labelOf(path)}: expected true or false, got ${describe(v)}`);
  return undefined;
};

export function oneOf<T extends string>(values: readonly T[]): Reader<T> {
  return (c, v, path) => {
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
    const got = typeof v === 'string' ? quote(v) : describe(v);
    c.report(path, `${labelOf(path)}: must be one of ${values.join(', ')}, got ${got}`);
    return undefined;
  };
}

/** An integer in [min, max]. */
export function int(min: number, max = Number.MAX_SAFE_INTEGER, what = 'an integer'): Reader<number> {
  return (c, v, path) => {
    if (typeof v === 'string' && c.fromEnv(path) && /^[-+]?\d+$/.test(v.trim())) v = Number(v);
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    const got = typeof v === 'number' ? String(v) : describe(v);
    c.report(path, `${labelOf(path)}: must be ${what}, got ${got}`);
    return undefined;
  };
}

/** A duration in ms; `min`/`max` bound it, with the bound spelled as the user would write it. */
export function duration(bounds: { min?: [number, string]; max?: [number, string] } = {}): Reader<number> {
  return (c, v, path) => {
    const label = labelOf(path);
    let ms: number;
    if (v === 0) ms = 0;
    else if (typeof v === 'string') {
      try {
        ms = parseDuration(v);
      } catch (e) {
        c.report(path, `${label}: ${(e as Error).message}`);
        return undefined;
      }
    } else {
      const got = typeof v === 'number' ? `a number without a unit` : describe(v);
      c.report(path, `${label}: expected a duration, got ${got} (${DURATION_HINT})`);
      return undefined;
    }
    if (bounds.min !== undefined && ms < bounds.min[0]) {
      c.report(path, `${label}: must be at least ${bounds.min[1]}, got ${String(v)}`);
      return undefined;
    }
    if (bounds.max !== undefined && ms > bounds.max[0]) {
      c.report(path, `${label}: must be at most ${bounds.max[1]}, got ${String(v)}`);
      return undefined;
    }
    return ms;
  };
}

/** `20%`, `12.5%` or a fraction; range checks are the caller's, with its own wording. */
export const percent: Reader<number> = (c, v, path) => {
  if (typeof v === 'string' || typeof v === 'number') {
    try {
      return parsePercent(v);
    } catch (e) {
      c.report(path, `${labelOf(path)}: ${(e as Error).message}`);
      return undefined;
    }
  }
  c.report(path, `${labelOf(path)}: expected a percentage, got ${describe(v)} (${PERCENT_HINT})`);
  return undefined;
};

/** A list whose entries are read one by one; a bad entry is reported and left out. */
export function list<T>(item: Reader<T>): Reader<T[]> {
  return (c, v, path) => {
    if (!Array.isArray(v)) {
      c.report(path, `${labelOf(path)}: expected a list, got ${describe(v)}`);
      return undefined;
    }
    const out: T[] = [];
    v.forEach((x: unknown, i) => {
      const r = item(c, x, [...path, i]);
      if (r !== undefined) out.push(r);
    });
    return out;
  };
}
