/**
 * YAML syntax errors in our own words: the yaml library's messages ("Sequence item without - indicator")
 * name its grammar, not what to change. Each known message (by the library's error code, and where a
 * code covers several mistakes by its message) maps to a sentence that says what to write; anything
 * else keeps the library's message. The position (file:line:col) is the library's, unchanged.
 */

interface Wording {
  readonly code: string;
  /** When one code covers several mistakes: the library's message this wording is for. */
  readonly match?: RegExp;
  readonly say: string | ((m: RegExpExecArray | null) => string);
}

const WORDINGS: readonly Wording[] = [
  { code: 'MISSING_CHAR', match: /^Sequence item without - indicator/, say: "a list item must start with '- ' (or, if this line belongs to the item above, indent it like that item's keys)" },
  { code: 'MISSING_CHAR', match: /^Implicit map keys need to be followed by map values/, say: "a key needs a ':' and a value after it (key: value)" },
  { code: 'MISSING_CHAR', match: /^Missing closing "?quote/, say: 'a quoted string is not closed: add the closing quote' },
  { code: 'MISSING_CHAR', match: /^Comments must be separated/, say: "a comment needs a space before its '#'" },
  { code: 'MISSING_CHAR', match: /^Missing space after : /, say: "put a space after ':' (key: value)" },
  { code: 'MISSING_CHAR', match: /^Missing , (?:or : )?between/, say: "items inside [ ] or { } must be separated by ','" },
  { code: 'BAD_INDENT', match: /^All sequence items must start at the same column/, say: "every '- ' item of a list must start at the same column" },
  { code: 'BAD_INDENT', match: /^All mapping items must start at the same column/, say: 'every key of a mapping must start at the same column: indent this line like the keys above it' },
  { code: 'BAD_INDENT', say: 'this line is indented differently from the lines it belongs with: indent it like its siblings' },
  { code: 'TAB_AS_INDENT', say: 'indent with spaces: YAML does not allow tabs for indentation' },
  { code: 'DUPLICATE_KEY', say: 'this key is written twice in the same mapping: keep one' },
  { code: 'MULTILINE_IMPLICIT_KEY', say: "a key must fit on one line (or a value is missing its ':' on the line before)" },
  { code: 'BLOCK_AS_IMPLICIT_KEY', say: "a key cannot be a list or a mapping: check the indentation and the ':' of the line" },
  { code: 'BAD_SCALAR_START', match: /^Plain value cannot start with (?:reserved character )?(.+)$/, say: (m) => `a value starting with ${m?.[1] ?? 'this character'} must be quoted` },
  { code: 'BAD_DQ_ESCAPE', match: /^Invalid escape sequence (.+)$/, say: (m) => `${m?.[1] ?? 'this'} is not an escape a double-quoted string allows: use single quotes, or write \\\\ for a backslash` },
  { code: 'MULTIPLE_DOCS', say: "a rule file holds one YAML document: remove the '---' line or split the file" },
  { code: 'BAD_ALIAS', say: 'an anchor (&name) or alias (*name) needs a name' },
  { code: 'TAG_RESOLVE_FAILED', match: /^Unresolved tag: (.+)$/, say: (m) => `unknown tag ${m?.[1] ?? ''}: remove it (rule files need no tags)`.replace(/ {2}/, ' ') },
  { code: 'UNEXPECTED_TOKEN', match: /^Unexpected scalar at node end/, say: "unexpected text after a value: a list item starts with '- ', a key is followed by ': '" },
  { code: 'UNEXPECTED_TOKEN', match: /^Unexpected , in/, say: "a ',' separates items only inside [ ] or { }: quote the value if it holds a comma" },
  { code: 'UNEXPECTED_TOKEN', match: /^Unexpected (?:flow-seq-end|flow-map-end|\]|\}) /, say: "a closing ']' or '}' without its opening one" },
];

/** Our wording of a yaml library error, or its own first line when we have none. */
export function syntaxMessage(e: { readonly code: string; readonly message: string }): string {
  const message = e.message.split('\n')[0]!.trim();
  for (const w of WORDINGS) {
    if (w.code !== e.code) continue;
    const m = w.match ? w.match.exec(message) : null;
    if (w.match && m === null) continue;
    return typeof w.say === 'string' ? w.say : w.say(m);
  }
  return message;
}
