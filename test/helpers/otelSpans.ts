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
}

export function exporterRow(s: ExporterSpan) {
  return {
    ...s,
    TraceState: '',
    'Events.Timestamp': [],
    'Events.Name': [],
    'Events.Attributes': [],
    'Links.TraceId': [],
    'Links.SpanId': [],
    'Links.TraceState': [],
    'Links.Attributes': [],
  };
}
