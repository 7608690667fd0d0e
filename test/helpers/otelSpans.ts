/**
 * One otel_traces row as the OpenTelemetry Collector's ClickHouse exporter inserts it: every column of
 * its table, attributes as Map(String, String) (every value a string), the Events and Links nested
 * columns empty. Tests give the columns a span needs and get the rest as the exporter writes them.
 */
export interface ExporterSpan {
  readonly Timestamp: string;
  readonly TraceId: string;
  readonly SpanId: string;
  readonly ParentSpanId: string;
  readonly SpanName: string;
  readonly SpanKind: string;
  readonly ServiceName: string;
  readonly ResourceAttributes: Record<string, string>;
  readonly ScopeName: string;
  readonly ScopeVersion: string;
  readonly SpanAttributes: Record<string, string>;
  /** Nanoseconds. */
  readonly Duration: number;
  readonly StatusCode: string;
  readonly StatusMessage: string;
  /** Span events (empty when absent), attributes as strings like the span's. */
  readonly Events?: readonly SpanEvent[];
}

export interface SpanEvent {
  readonly Timestamp: string;
  readonly Name: string;
  readonly Attributes: Record<string, string>;
}

/** A `gen_ai.evaluation.result` event: an OpenTelemetry GenAI evaluation of the span's output. */
export function evaluationEvent(at: string, name: string, value: string, extra: Record<string, string> = {}): SpanEvent {
  return { Timestamp: at, Name: 'gen_ai.evaluation.result', Attributes: { 'gen_ai.evaluation.name': name, 'gen_ai.evaluation.score.value': value, ...extra } };
}

export function exporterRow({ Events: events = [], ...s }: ExporterSpan) {
  return {
    ...s,
    TraceState: '',
    'Events.Timestamp': events.map((e) => e.Timestamp),
    'Events.Name': events.map((e) => e.Name),
    'Events.Attributes': events.map((e) => e.Attributes),
    'Links.TraceId': [],
    'Links.SpanId': [],
    'Links.TraceState': [],
    'Links.Attributes': [],
  };
}

/** A span as the rollup tests write it: times in seconds after a test's T, the rest as the exporter stores it. */
export interface SpanSpec {
  readonly trace: string;
  readonly id: string;
  readonly parent?: string;
  readonly name: string;
  readonly kind?: string;
  /** Seconds after T. */
  readonly start: number;
  /** Seconds. */
  readonly dur: number;
  readonly status?: string;
  readonly message?: string;
  readonly service: string;
  /** The instrumentation scope (default: a GenAI instrumentation's). */
  readonly scope?: string;
  readonly resource?: Record<string, string>;
  readonly attrs?: Record<string, string>;
  /** Span events; their times are the span's start. */
  readonly events?: readonly { readonly name: string; readonly attrs: Record<string, string> }[];
}

/** One otel_traces row for `s`, its times counted from `t0` (ms). */
export function exportedSpan(t0: number, s: SpanSpec) {
  return exporterRow({
    Timestamp: new Date(t0 + Math.round(s.start * 1000)).toISOString(),
    TraceId: s.trace,
    SpanId: s.id,
    ParentSpanId: s.parent ?? '',
    SpanName: s.name,
    SpanKind: s.kind ?? 'Internal',
    ServiceName: s.service,
    ResourceAttributes: { 'service.name': s.service, 'telemetry.sdk.language': 'python', ...(s.resource ?? { 'deployment.environment.name': 'prod' }) },
    ScopeName: s.scope ?? 'opentelemetry.instrumentation.genai',
    ScopeVersion: '0.3b0',
    SpanAttributes: s.attrs ?? {},
    Duration: Math.round(s.dur * 1e9),
    StatusCode: s.status ?? 'Unset',
    StatusMessage: s.message ?? '',
    Events: (s.events ?? []).map((e) => ({ Timestamp: new Date(t0 + Math.round(s.start * 1000)).toISOString(), Name: e.name, Attributes: e.attrs })),
  });
}
