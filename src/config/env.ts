/**
 * `${VAR}` and `${VAR:-default}` in string values of agentdrift.yaml, so secrets can live in the
 * environment instead of the file. `$${` writes a literal `${`. A bare `$` is left alone, so passwords
 * containing `$` need no escaping. Substitution happens on the YAML tree before validation: every
 * problem still points at the value it came from, and names the variable, never a value.
 */
import { isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Problem } from '../yaml/problem.js';
import { quote } from '../yaml/check.js';
import type { Path, YamlSource } from '../yaml/source.js';

const VAR_NAME = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

export type Env = Readonly<Record<string, string | undefined>>;

/** Expands one string; problems are messages (without position). */
export function expandEnv(text: string, env: Env): { value: string; errors: string[] } {
  let out = '';
  const errors: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      out += text[i];
      i++;
      continue;
    }
    const close = text.indexOf('}', i + 2);
    if (close < 0) {
      errors.push('unclosed "${" (write $${ for a literal ${)');
      out += text.slice(i);
      break;
    }
    const inner = text.slice(i + 2, close);
    const m = VAR_NAME.exec(inner);
    if (m === null) {
      errors.push(`invalid variable reference ${quote('${' + inner + '}')}: use \${NAME} or \${NAME:-default}`);
    } else {
      const name = m[1]!;
      const fallback = m[2];
      const v = env[name];
      // As in the shell, `:-` also replaces a variable that is set but empty.
      if (fallback !== undefined && (v === undefined || v === '')) out += fallback;
      else if (v !== undefined) out += v;
      else errors.push(`environment variable ${name} is not set (use \${${name}:-default} for a default)`);
    }
    i = close + 1;
  }
  return { value: out, errors };
}

/**
 * Substitutes in place in every string value (not in keys) and returns the paths it changed. Values
 * stay strings (a password of digits must not turn into a number); readers of numbers and booleans
 * accept a substituted string of the right form, so `ttl_days: ${TTL_DAYS:-30}` works.
 */
export function substituteEnv(source: YamlSource, env: Env): { problems: Problem[]; paths: Path[] } {
  const problems: Problem[] = [];
  const paths: Path[] = [];
  const visit = (node: unknown, path: Path): void => {
    if (isMap(node)) {
      for (const p of node.items) if (isPair(p)) visit(p.value, [...path, isScalar(p.key) ? String(p.key.value) : String(p.key)]);
    } else if (isSeq(node)) {
      node.items.forEach((it, i) => visit(it, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
      const { value, errors } = expandEnv(node.value, env);
      const at = source.lineCounter.linePos(node.range?.[0] ?? 0);
      for (const message of errors) problems.push({ file: source.file, line: at.line, col: at.col, message });
      node.value = value;
      paths.push(path);
    }
  };
  visit(source.doc.contents, []);
  return { problems, paths };
}
