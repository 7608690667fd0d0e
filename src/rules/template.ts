/**
 * A small Go-template-like language for alert labels and annotations:
 *
 *   {{ $labels.workflow_id }}  {{ $value | percent }}  {{ $current | humanize }}  {{ $baseline | usd }}
 *   {{ $p_value | printf "%.3f" }}
 *
 * Only variables and a pipe of known functions are allowed: no conditionals, no loops, nothing that
 * could reach outside the alert's own data. Templates are type-checked when rules are loaded
 * (`checkTemplate`), so rendering cannot fail on a loaded rule.
 */
import { ERR } from '../util/errors.js';
import { formatNumber, formatPercentChange, humanize, NA, usd } from '../util/format.js';

export interface TemplateData {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number | null;
  readonly current: number | null;
  readonly baseline: number | null;
  readonly runs: number;
  readonly baselineRuns: number;
  readonly pValue: number | null;
}

const NUMBER_VARS = {
  value: 'value',
  current: 'current',
  baseline: 'baseline',
  runs: 'runs',
  baseline_runs: 'baselineRuns',
  p_value: 'pValue',
} as const satisfies Record<string, keyof TemplateData>;
type NumberVar = keyof typeof NUMBER_VARS;

const FUNCTIONS = ['percent', 'humanize', 'usd', 'printf'] as const;

type Type = 'number' | 'string';

type Operand = { readonly kind: 'label'; readonly name: string } | { readonly kind: 'number'; readonly name: NumberVar };

type Fn =
  | { readonly name: 'percent' | 'humanize' | 'usd' }
  | { readonly name: 'printf'; readonly format: readonly FormatPart[] };

interface Action {
  readonly operand: Operand;
  readonly fns: readonly Fn[];
}

type Piece = string | Action;

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly errorCode = ERR.INVALID_TEMPLATE;
}

// ---- lexing and parsing ----------------------------------------------------------------------------

type Token =
  | { readonly t: 'var'; readonly text: string }
  | { readonly t: 'ident'; readonly text: string }
  | { readonly t: 'string'; readonly value: string }
  | { readonly t: 'pipe' };

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parse(text: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    const literal = open < 0 ? text.slice(i) : text.slice(i, open);
    const stray = literal.indexOf('}}');
    if (stray >= 0) throw new TemplateError(`unbalanced braces: "}}" without "{{" at offset ${i + stray}`);
    if (literal !== '') pieces.push(literal);
    if (open < 0) break;
    const { tokens, end } = lexAction(text, open + 2);
    pieces.push(parseAction(tokens));
    i = end;
  }
  return pieces;
}

/** Tokens of one action, up to its closing braces; `end` is the offset just after them. */
function lexAction(text: string, start: number): { tokens: Token[]; end: number } {
  const tokens: Token[] = [];
  let i = start;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) throw new TemplateError(`unbalanced braces: "{{" at offset ${start - 2} is never closed`);
    if (text.startsWith('}}', i)) return { tokens, end: i + 2 };
    if (text.startsWith('{{', i)) throw new TemplateError(`unbalanced braces: "{{" inside an action at offset ${i}`);
    const ch = text[i]!;
    if (ch === '|') {
      tokens.push({ t: 'pipe' });
      i++;
    } else if (ch === '"') {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= text.length) throw new TemplateError(`unterminated string at offset ${i}`);
        const c = text[j]!;
        if (c === '"') break;
        if (c === '\\') {
          const n = text[j + 1];
          const esc: Record<string, string> = { n: '\n', t: '\t', '"': '"', '\\': '\\' };
          if (n === undefined || esc[n] === undefined) throw new TemplateError(`bad escape in string at offset ${j}`);
          value += esc[n];
          j += 2;
        } else {
          value += c;
          j++;
        }
      }
      tokens.push({ t: 'string', value });
      i = j + 1;
    } else {
      const m = /^\$?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]*)*/.exec(text.slice(i));
      if (m === null) throw new TemplateError(`unexpected ${JSON.stringify(ch)} at offset ${i}`);
      tokens.push(m[0].startsWith('$') ? { t: 'var', text: m[0] } : { t: 'ident', text: m[0] });
      i += m[0].length;
    }
  }
}

function parseAction(tokens: readonly Token[]): Action {
  const first = tokens[0];
  if (first === undefined) throw new TemplateError('empty action "{{ }}"');
  if (first.t !== 'var') {
    throw new TemplateError('an action must start with a variable, e.g. {{ $value | percent }}');
  }
  const operand = parseOperand(first.text);
  let type: Type = operand.kind === 'label' ? 'string' : 'number';
  const fns: Fn[] = [];
  let k = 1;
  while (k < tokens.length) {
    if (tokens[k]!.t !== 'pipe') throw new TemplateError('expected "|" between the variable and a function');
    const fnTok = tokens[k + 1];
    if (fnTok === undefined) throw new TemplateError('missing function after "|"');
    if (fnTok.t !== 'ident') throw new TemplateError('expected a function name after "|"');
    k += 2;
    const name = fnTok.text;
    if (name === 'percent' || name === 'humanize' || name === 'usd') {
      if (type !== 'number') throw new TemplateError(`${name} needs a number, got a string`);
      fns.push({ name });
      type = 'string';
    } else if (name === 'printf') {
      const fmt = tokens[k];
      if (fmt === undefined || fmt.t !== 'string') throw new TemplateError('printf needs a quoted format, e.g. printf "%.2f"');
      k++;
      const format = parseFormat(fmt.value);
      const verb = format.find((p): p is Verb => typeof p !== 'string');
      if (verb !== undefined && type === 'string' && NUMERIC_VERBS.includes(verb.verb)) {
        throw new TemplateError(`printf %${verb.verb} needs a number, got a string`);
      }
      fns.push({ name: 'printf', format });
      type = 'string';
    } else {
      throw new TemplateError(`unknown function ${JSON.stringify(name)} (known: ${FUNCTIONS.join(', ')})`);
    }
  }
  return { operand, fns };
}

function parseOperand(text: string): Operand {
  if (text.startsWith('$labels.')) {
    const name = text.slice('$labels.'.length);
    if (!LABEL_NAME.test(name)) throw new TemplateError(`bad label name in ${text}`);
    return { kind: 'label', name };
  }
  if (text === '$labels') throw new TemplateError('use $labels.<name>, e.g. $labels.workflow_id');
  const name = text.slice(1);
  if (Object.hasOwn(NUMBER_VARS, name)) return { kind: 'number', name: name as NumberVar };
  const known = ['$labels.<name>', ...Object.keys(NUMBER_VARS).map((v) => `$${v}`)];
  throw new TemplateError(`unknown variable ${text} (known: ${known.join(', ')})`);
}

// ---- printf ----------------------------------------------------------------------------------------

interface Verb {
  readonly flags: string;
  readonly width: number | null;
  readonly precision: number | null;
  readonly verb: string;
}
type FormatPart = string | Verb;

const NUMERIC_VERBS = ['d', 'f', 'F', 'e', 'E', 'g', 'G'];
const ALL_VERBS = [...NUMERIC_VERBS, 's', 'v', 'q'];

function parseFormat(format: string): FormatPart[] {
  const parts: FormatPart[] = [];
  const re = /%([-+ 0]*)(\d+)?(?:\.(\d+))?(.?)/gy;
  let lit = '';
  let verbs = 0;
  for (let i = 0; i < format.length; ) {
    if (format[i] !== '%') {
      lit += format[i];
      i++;
      continue;
    }
    re.lastIndex = i;
    const m = re.exec(format)!;
    const verb = m[4]!;
    if (verb === '%' && m[0] === '%%') {
      lit += '%';
    } else {
      if (!ALL_VERBS.includes(verb)) throw new TemplateError(`printf: bad verb ${JSON.stringify(m[0])} in ${JSON.stringify(format)}`);
      if (lit !== '') parts.push(lit);
      lit = '';
      parts.push({
        flags: m[1] ?? '',
        width: m[2] === undefined ? null : Number(m[2]),
        precision: m[3] === undefined ? null : Number(m[3]),
        verb,
      });
      verbs++;
    }
    i += m[0].length;
  }
  if (lit !== '') parts.push(lit);
  if (verbs !== 1) throw new TemplateError(`printf: the format must use the piped value exactly once, got ${verbs} verbs in ${JSON.stringify(format)}`);
  return parts;
}

function applyVerb(v: Verb, x: string | number): string {
  let body: string;
  let sign = '';
  if (typeof x === 'string') {
    body = v.verb === 'q' ? JSON.stringify(x) : x;
    if (v.precision !== null && (v.verb === 's' || v.verb === 'v')) body = body.slice(0, v.precision);
  } else if (!Number.isFinite(x)) {
    body = formatNumber(x);
  } else {
    const neg = x < 0 || Object.is(x, -0);
    const a = Math.abs(x);
    switch (v.verb) {
      case 'd':
        body = String(Math.round(a));
        break;
      case 'f':
      case 'F':
        body = a.toFixed(v.precision ?? 6);
        break;
      case 'e':
      case 'E':
        body = goExponent(a.toExponential(v.precision ?? 6));
        if (v.verb === 'E') body = body.toUpperCase();
        break;
      case 'g':
      case 'G':
        body = v.precision === null ? String(a) : String(Number(a.toPrecision(Math.max(1, v.precision))));
        if (v.verb === 'G') body = body.toUpperCase();
        break;
      case 'q':
        body = JSON.stringify(formatNumber(a));
        break;
      default:
        body = formatNumber(a);
    }
    sign = neg && Number(body.replace(/[^0-9.]/g, '')) !== 0 ? '-' : v.flags.includes('+') ? '+' : v.flags.includes(' ') ? ' ' : '';
  }
  const width = v.width ?? 0;
  const len = sign.length + body.length;
  if (len >= width) return sign + body;
  if (v.flags.includes('-')) return sign + body + ' '.repeat(width - len);
  if (v.flags.includes('0') && typeof x === 'number' && Number.isFinite(x)) return sign + '0'.repeat(width - len) + body;
  return ' '.repeat(width - len) + sign + body;
}

/** Go writes exponents with at least two digits: 1.5e+03, not 1.5e+3. */
function goExponent(s: string): string {
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

// ---- public API ------------------------------------------------------------------------------------

const cache = new Map<string, Piece[] | TemplateError>();
const CACHE_MAX = 1024;

function compiled(text: string): Piece[] | TemplateError {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  let result: Piece[] | TemplateError;
  try {
    result = parse(text);
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    result = e;
  }
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(text, result);
  return result;
}

/** The error in a template, or null when it is valid. */
export function checkTemplate(text: string): string | null {
  const c = compiled(text);
  return c instanceof TemplateError ? c.message : null;
}

/**
 * Expands a template. Missing labels render as "", null numbers as "n/a". An invalid template (which a
 * loaded rule cannot have) renders as an error marker rather than throwing, like Prometheus, so one bad
 * string never stops a notification.
 */
export function renderTemplate(text: string, data: TemplateData): string {
  const c = compiled(text);
  if (c instanceof TemplateError) return `<error expanding template: ${c.message}>`;
  let out = '';
  for (const piece of c) out += typeof piece === 'string' ? piece : renderAction(piece, data);
  return out;
}

function renderAction(a: Action, data: TemplateData): string {
  let v: string | number | null =
    a.operand.kind === 'label'
      ? (Object.hasOwn(data.labels, a.operand.name) ? data.labels[a.operand.name]! : '')
      : data[NUMBER_VARS[a.operand.name]];
  for (const fn of a.fns) {
    if (v === null) return NA;
    switch (fn.name) {
      case 'percent':
        v = formatPercentChange(v as number);
        break;
      case 'humanize':
        v = humanize(v as number);
        break;
      case 'usd':
        v = usd(v as number);
        break;
      case 'printf': {
        const x: string | number = v;
        v = fn.format.map((p) => (typeof p === 'string' ? p : applyVerb(p, x))).join('');
        break;
      }
    }
  }
  if (v === null) return NA;
  return typeof v === 'number' ? formatNumber(v) : v;
}
