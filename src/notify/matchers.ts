/**
 * Label matchers as Alertmanager writes them: `severity = critical`, `team!="infra"`,
 * `workflow_id=~"invoice_.*"`, `tool!~"search_.*"`; several in one string separated by commas,
 * optionally in braces (`{severity="critical", team="agents"}`). Regexes are anchored at both ends,
 * and a missing label matches as the empty string, as in Alertmanager.
 */

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  /** Compiled, anchored; set for =~ and !~. */
  readonly re: RegExp | null;
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

/** The matchers in one string, or the reason it is not one. */
export function parseMatchers(input: string): Matcher[] | string {
  let s = input.trim();
  if (s.startsWith('{')) {
    if (!s.endsWith('}')) return 'missing closing "}"';
    s = s.slice(1, -1).trim();
  }
  if (s === '') return 'empty matcher: write name=value, e.g. severity = critical';
  const out: Matcher[] = [];
  let i = 0;
  const skip = (): void => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  for (;;) {
    skip();
    NAME.lastIndex = i;
    const m = NAME.exec(s);
    if (m === null) return `expected a label name at offset ${i} (letters, digits and _, not starting with a digit)`;
    const name = m[0];
    i += name.length;
    skip();
    const op = (['=~', '!~', '!=', '='] as const).find((o) => s.startsWith(o, i));
    if (op === undefined) return `expected one of =, !=, =~, !~ after ${JSON.stringify(name)}`;
    i += op.length;
    skip();
    let value: string;
    if (s[i] === '"') {
      const r = readQuoted(s, i);
      if (typeof r === 'string') return r;
      value = r.value;
      i = r.end;
    } else {
      const end = s.indexOf(',', i);
      value = (end < 0 ? s.slice(i) : s.slice(i, end)).trim();
      i = end < 0 ? s.length : end;
      if (/["{}]/.test(value)) return `unexpected quote or brace in the value of ${JSON.stringify(name)}: quote the whole value`;
      // `severity == critical` would otherwise match the value "= critical": a typo, not an intent.
      if (/^[=~!]/.test(value)) return `unexpected ${JSON.stringify(value[0])} after ${op} on ${JSON.stringify(name)} (operators are =, !=, =~, !~; quote a value that starts with it)`;
    }
    let re: RegExp | null = null;
    if (op === '=~' || op === '!~') {
      try {
        re = new RegExp(`^(?:${value})$`, 'u');
      } catch (e) {
        return `invalid regular expression for ${JSON.stringify(name)}: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`;
      }
    }
    out.push({ name, op, value, re });
    skip();
    if (i >= s.length) return out;
    if (s[i] !== ',') return `expected "," or the end after the matcher on ${JSON.stringify(name)}`;
    i++;
    skip();
    // A trailing comma is tolerated, as Alertmanager does.
    if (i >= s.length) return out;
  }
}

function readQuoted(s: string, start: number): { value: string; end: number } | string {
  let value = '';
  let i = start + 1;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') return { value, end: i + 1 };
    if (c === '\\') {
      const n = s[i + 1];
      if (n === undefined) break;
      value += n === 'n' ? '\n' : n === 't' ? '\t' : n;
      i += 2;
    } else {
      value += c;
      i++;
    }
  }
  return 'unterminated quoted value';
}

export function matches(m: Matcher, labels: Readonly<Record<string, string>>): boolean {
  const v = Object.hasOwn(labels, m.name) ? labels[m.name]! : '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return m.re!.test(v);
    case '!~':
      return !m.re!.test(v);
  }
}

export function matchesAll(ms: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  return ms.every((m) => matches(m, labels));
}
