/**
 * The notification model: what a receiver is told about an alert. Shaped after Alertmanager's alert
 * (labels, annotations, startsAt/endsAt, generatorURL) plus the drift evidence agentdrift adds.
 */

export interface DriftEvidence {
  readonly signal: string;
  /** Tool name, `__mix__`, or '' for a per-group signal. */
  readonly key: string;
  readonly current: number | null;
  readonly baseline: number | null;
  /** Relative change (scalars) or effect size (distributions). */
  readonly deviation: number | null;
  readonly isNew: boolean;
  /** Human descriptions such as "last 7d" and "previous 7d". */
  readonly window: string;
  readonly baselineWindow: string;
  readonly currentRuns: number;
  readonly baselineRuns: number;
  readonly pValue: number | null;
  readonly threshold: number;
  readonly direction: string;
  /** What drove it: tools, fingerprints, denied policy rules, cost components. */
  readonly contributors: readonly { readonly name: string; readonly current: number | null; readonly baseline: number | null }[];
  readonly exampleRunIds: readonly string[];
}

export interface AlertNotification {
  /** Stable id of the alert series (hash of alertname and identity labels). */
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  /** alertname, rule labels (severity, team...), group labels (workflow_id...), tool where relevant. */
  readonly labels: Readonly<Record<string, string>>;
  /** Rendered templates: summary, description, runbook_url... */
  readonly annotations: Readonly<Record<string, string>>;
  /** ISO-8601. */
  readonly startsAt: string;
  /** ISO-8601 for resolved alerts; null while firing. */
  readonly endsAt: string | null;
  readonly generatorURL: string;
  readonly evidence: DriftEvidence;
}
