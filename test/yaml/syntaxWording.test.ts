/** YAML syntax errors in our words (src/yaml/syntaxWording.ts), at the yaml library's file:line:col. */
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/yaml/source.js';
import { syntaxMessage } from '../../src/yaml/syntaxWording.js';
import { formatProblem } from '../../src/yaml/problem.js';

describe('syntaxMessage', () => {
  it.each([
    ['MISSING_CHAR', 'Sequence item without - indicator', "a list item must start with '- ' (or, if this line belongs to the item above, indent it like that item's keys)"],
    ['MISSING_CHAR', 'Implicit map keys need to be followed by map values', "a key needs a ':' and a value after it (key: value)"],
    ['MISSING_CHAR', 'Missing closing "quote', 'a quoted string is not closed: add the closing quote'],
    ['BAD_INDENT', 'All mapping items must start at the same column', 'every key of a mapping must start at the same column: indent this line like the keys above it'],
    ['BAD_INDENT', 'All sequence items must start at the same column', "every '- ' item of a list must start at the same column"],
    ['TAB_AS_INDENT', 'Tabs are not allowed as indentation', 'indent with spaces: YAML does not allow tabs for indentation'],
    ['DUPLICATE_KEY', 'Map keys must be unique', 'this key is written twice in the same mapping: keep one'],
    ['BAD_SCALAR_START', 'Plain value cannot start with reserved character @', 'a value starting with @ must be quoted'],
    ['BAD_DQ_ESCAPE', 'Invalid escape sequence \\q', '\\q is not an escape a double-quoted string allows: use single quotes, or write \\\\ for a backslash'],
    ['TAG_RESOLVE_FAILED', 'Unresolved tag: !foo', 'unknown tag !foo: remove it (rule files need no tags)'],
    // A message we have no wording for keeps the library's first line.
    ['IMPOSSIBLE', 'Block scalar header not found\nmore', 'Block scalar header not found'],
    ['MISSING_CHAR', 'Something new in a later yaml', 'Something new in a later yaml'],
  ])('%s %j', (code, message, want) => {
    expect(syntaxMessage({ code, message })).toBe(want);
  });
});

describe('parseYaml reports syntax errors in our words at file:line:col', () => {
  it.each([
    ['a key without its value', 'groups: []\nrules\n', "r.yaml:2:1: YAML: a key needs a ':' and a value after it (key: value)"],
    // The case: yaml says "Sequence item without - indicator".
    ['a key indented past its siblings in a list item', 'groups:\n  - name: a\n    rules:\n      - alert: A\n       signal: x\n', "r.yaml:5:1: YAML: a list item must start with '- ' (or, if this line belongs to the item above, indent it like that item's keys)"],
    ['a key indented off its siblings', 'a:\n  b: 1\n c: 2\n', 'r.yaml:3:1: YAML: every key of a mapping must start at the same column: indent this line like the keys above it'],
    ['a tab', 'groups:\n\t- name: a\n', 'r.yaml:2:1: YAML: indent with spaces: YAML does not allow tabs for indentation'],
    ['an unclosed quote', 'groups:\n  - name: "a\n', 'r.yaml:3:1: YAML: a quoted string is not closed: add the closing quote'],
    ['two documents', 'groups: []\n---\ngroups: []\n', "r.yaml:2:1: YAML: a rule file holds one YAML document: remove the '---' line or split the file"],
  ])('%s', (_name, text, want) => {
    const { problems } = parseYaml(text, 'r.yaml');
    expect(problems.map(formatProblem)[0]).toBe(want);
  });
});
