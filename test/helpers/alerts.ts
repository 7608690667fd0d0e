/**
 * The drift alert the notifier tests send: enrich_company called 59.6% more often per run in
 * invoice_enrichment, firing. `alert(overrides)` changes what a test needs: labels, annotations and
 * evidence are merged key by key over the base (a key the base has keeps its place, a new one comes
 * last), any other field is replaced.
 */
import type { AlertNotification, DriftEvidence } from '../../src/notify/types.js';

export interface AlertOverrides extends Partial<Omit<AlertNotification, 'labels' | 'annotations' | 'evidence'>> {
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly evidence?: Partial<DriftEvidence>;
}

const BASE: AlertNotification = {
  fingerprint: '3f2a9c1d7e5b4a60',
  status: 'firing',
  labels: { alertname: 'ToolCallsPerRunUp', severity: 'warning', workflow_id: 'invoice_enrichment', tool: 'enrich_company' },
  annotations: { summary: 'enrich_company is called 59.6% more often per run', runbook_url: 'https://runbooks.example.com/tool-calls' },
  startsAt: '2026-03-02T10:00:00.000Z',
  endsAt: null,
  generatorURL: 'http://agentdrift.example.com:9464/alerts?rule=ToolCallsPerRunUp',
  evidence: {
    signal: 'tool_calls_per_run',
    key: 'enrich_company',
    current: 1.74,
    baseline: 1.09,
    deviation: 0.596,
    isNew: false,
    window: 'last 7d',
    baselineWindow: 'previous 7d',
    currentRuns: 8355,
    baselineRuns: 8314,
    pValue: 1e-12,
    threshold: 0.2,
    direction: 'up',
    contributors: [
      { name: 'enrich_company', current: 1.74, baseline: 1.09 },
      { name: 'search_web', current: 0.5, baseline: 0.61 },
    ],
    exampleRunIds: ['run_8f1c', 'run_77aa'],
  },
};

/** What every notifier says moved, for the base evidence (unchanged by overrides of other fields). */
export const MOVED = 'enrich_company calls per run 1.09 → 1.74 (+59.6%) over last 7d vs previous 7d, 8355 vs 8314 runs, p=1e-12';

export function alert(overrides: AlertOverrides = {}): AlertNotification {
  return {
    ...BASE,
    ...overrides,
    labels: { ...BASE.labels, ...overrides.labels },
    annotations: { ...BASE.annotations, ...overrides.annotations },
    evidence: { ...BASE.evidence, ...overrides.evidence },
  };
}
