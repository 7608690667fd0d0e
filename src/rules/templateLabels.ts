/**
 * `$labels.<name>` in a rule's annotations and labels must name a label the rule's alerts have: a
 * group_by column, the signal's key label (`tool`, or `fingerprint` with `measure: share`) or one of
 * the rule's own labels. Any other renders empty in every notification (e.g. `$labels.tenant_id` in a
 * rule that does not group by tenant_id), so `check` flags it where it is written.
 */
import type { SignalName, SignalOptions } from './types.js';

/** The labels a series of this rule carries, in the order a message lists them. */
export function alertLabelNames(rule: {
  readonly signal: SignalName | undefined;
  readonly groupBy: readonly string[];
  readonly options: SignalOptions;
  readonly labels: Readonly<Record<string, string>>;
}): string[] {
  const key = rule.signal === 'tool_calls_per_run' ? ['tool'] : rule.signal === 'output_schema_shift' && rule.options.measure === 'share' ? ['fingerprint'] : [];
  return [...new Set([...rule.groupBy, ...key, ...Object.keys(rule.labels)])];
}

/** Every `$labels.<name>` inside a template's {{ }} actions, once each, in order. */
export function templateLabelRefs(template: string): string[] {
  const names: string[] = [];
  for (const action of template.matchAll(/\{\{(.*?)\}\}/gs)) {
    for (const m of action[1]!.matchAll(/\$labels\.([A-Za-z_][A-Za-z0-9_]*)/g)) if (!names.includes(m[1]!)) names.push(m[1]!);
  }
  return names;
}

export interface UnknownTemplateLabel {
  /** `annotations` or `labels`: the field of the rule the template is in. */
  readonly field: 'annotations' | 'labels';
  /** The annotation's or label's name. */
  readonly name: string;
  readonly message: string;
}

/** The `$labels.<name>` references of a rule's annotations and labels that name no label of its alerts. */
export function unknownTemplateLabels(rule: Parameters<typeof alertLabelNames>[0] & { readonly annotations: Readonly<Record<string, string>> }): UnknownTemplateLabel[] {
  const known = alertLabelNames(rule);
  const out: UnknownTemplateLabel[] = [];
  for (const field of ['annotations', 'labels'] as const) {
    for (const [name, template] of Object.entries(rule[field])) {
      for (const label of templateLabelRefs(template)) {
        if (known.includes(label)) continue;
        const has = known.length === 0 ? 'its alerts have no labels' : `its alerts have ${known.join(', ')}`;
        const fix = rule.signal !== undefined && ['tool', 'fingerprint'].includes(label) ? '' : `: add ${label} to group_by, or remove it`;
        out.push({ field, name, message: `${field}.${name}: $labels.${label} is not a label of this rule's alerts and would render empty (${has})${fix}` });
      }
    }
  }
  return out;
}
