/**
 * The spans the collector's debug exporter printed at `verbosity: detailed`: one block per resource
 * (`Resource attributes:` with `-> service.name: Str(orders)`), then per span `Trace ID : ...`,
 * `ID : ...`, `Name : ...`, `Kind : ...`.
 * @see https://github.com/open-telemetry/opentelemetry-collector/tree/main/exporter/debugexporter
 */

/** A span as the debug exporter printed it. */
export interface PrintedSpan {
  readonly service: string | undefined;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentId: string;
  readonly name: string;
  readonly kind: string;
}

/** Every span in the debug exporter's output, in the order printed. */
export function printedSpans(output: string): PrintedSpan[] {
  const spans: PrintedSpan[] = [];
  let service: string | undefined;
  let span: Partial<Record<'traceId' | 'spanId' | 'parentId' | 'name' | 'kind', string>> | undefined;
  const flush = () => {
    if (span?.traceId !== undefined)
      spans.push({
        service,
        traceId: span.traceId,
        spanId: span.spanId ?? '',
        parentId: span.parentId ?? '',
        name: span.name ?? '',
        kind: span.kind ?? '',
      });
    span = undefined;
  };
  const fields = {
    'Trace ID': 'traceId',
    'Parent ID': 'parentId',
    ID: 'spanId',
    Name: 'name',
    Kind: 'kind',
  } as const;
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('ResourceSpans #')) {
      flush();
      service = undefined;
    } else if (line.startsWith('-> service.name: Str(') && span === undefined) {
      service = line.slice('-> service.name: Str('.length, -1);
    } else if (/^Span #\d+$/.test(line)) {
      flush();
      span = {};
    } else if (span !== undefined) {
      const m = /^(Trace ID|Parent ID|ID|Name|Kind)\s*: ?(.*)$/.exec(line);
      if (m) span[fields[m[1] as keyof typeof fields]] = m[2]!.trim();
    }
  }
  flush();
  return spans;
}
