/**
 * Decoding of OTLP trace exports (ExportTraceServiceRequest) in both encodings OTLP/HTTP allows:
 * binary protobuf (`application/x-protobuf`, what `envFor` configures) and JSON. The protobuf reader
 * is a small wire-format decoder for the few messages a trace view needs; unknown fields are skipped,
 * as protobuf requires, so newer exporters keep working.
 * @see https://github.com/open-telemetry/opentelemetry-proto/blob/main/opentelemetry/proto/trace/v1/trace.proto
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp
 */

/** A finished span, as the trace sink keeps it. */
export interface SpanRecord {
  /** 32 lower-case hex digits. */
  readonly traceId: string;
  /** 16 lower-case hex digits. */
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  /** `service.name` of the resource that produced the span. */
  readonly service: string;
  /** SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  /** Milliseconds since the Unix epoch (fractional). */
  readonly startMs: number;
  readonly endMs: number;
  readonly status: 'unset' | 'ok' | 'error';
  readonly statusMessage?: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** Spans of other traces (or of this one) this span is related to, e.g. a batch call to its messages. */
  readonly links?: readonly SpanLink[];
}

/** A span link: the trace and span it points to. */
export interface SpanLink {
  readonly traceId: string;
  readonly spanId: string;
}

export type AttributeValue = string | number | boolean | readonly AttributeValue[] | null;

/** An OTLP body that cannot be decoded: the sink answers 400 with this message. */
export class OtlpDecodeError extends Error {}

// ---------------------------------------------------------------- protobuf wire format

interface Field {
  readonly no: number;
  readonly wire: number;
  /** varint (as a float: exact up to 2^53), or the raw bytes of fixed and length-delimited fields. */
  readonly varint: number;
  readonly bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new OtlpDecodeError('truncated varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new OtlpDecodeError('varint longer than 10 bytes');
  };
  const take = (n: number): Uint8Array => {
    if (pos + n > buf.length) throw new OtlpDecodeError('truncated field');
    const out = buf.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  while (pos < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key % 8;
    switch (wire) {
      case 0:
        yield { no, wire, varint: varint(), bytes: EMPTY };
        break;
      case 1:
        yield { no, wire, varint: 0, bytes: take(8) };
        break;
      case 2:
        yield { no, wire, varint: 0, bytes: take(varint()) };
        break;
      case 5:
        yield { no, wire, varint: 0, bytes: take(4) };
        break;
      default:
        throw new OtlpDecodeError(`unsupported protobuf wire type ${wire}`);
    }
  }
}

const utf8 = new TextDecoder();
const str = (f: Field): string => utf8.decode(f.bytes);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
/** fixed64 nanoseconds -> fractional milliseconds. */
const nanosToMs = (b: Uint8Array): number => Number(view(b).getBigUint64(0, true) / 1000n) / 1000;
/** int64 on the wire is two's complement in a 10-byte varint. */
const int64 = (v: number): number => (v >= 2 ** 63 ? v - 2 ** 64 : v);

function anyValue(buf: Uint8Array): AttributeValue {
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1:
        return str(f);
      case 2:
        return f.varint !== 0;
      case 3:
        return int64(f.varint);
      case 4:
        return view(f.bytes).getFloat64(0, true);
      case 5:
        return [...fields(f.bytes)].filter((v) => v.no === 1).map((v) => anyValue(v.bytes));
      case 6:
        return JSON.stringify(keyValues(f.bytes, 1));
      case 7:
        return hex(f.bytes);
    }
  }
  return null;
}

/** Repeated KeyValue at field `no` of a message. */
function keyValues(buf: Uint8Array, no: number): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const f of fields(buf)) {
    if (f.no !== no) continue;
    let key = '';
    let value: AttributeValue = null;
    for (const kv of fields(f.bytes)) {
      if (kv.no === 1) key = str(kv);
      else if (kv.no === 2) value = anyValue(kv.bytes);
    }
    out[key] = value;
  }
  return out;
}

const STATUS = ['unset', 'ok', 'error'] as const;

function protoSpan(buf: Uint8Array, service: string): SpanRecord {
  let traceId = '';
  let spanId = '';
  let parentSpanId: string | undefined;
  let name = '';
  let kind = 0;
  let startMs = 0;
  let endMs = 0;
  let status: SpanRecord['status'] = 'unset';
  let statusMessage: string | undefined;
  const links: SpanLink[] = [];
  for (const f of fields(buf)) {
    if (f.no === 1) traceId = hex(f.bytes);
    else if (f.no === 2) spanId = hex(f.bytes);
    else if (f.no === 4 && f.bytes.length) parentSpanId = hex(f.bytes);
    else if (f.no === 5) name = str(f);
    else if (f.no === 6) kind = f.varint;
    else if (f.no === 7) startMs = nanosToMs(f.bytes);
    else if (f.no === 8) endMs = nanosToMs(f.bytes);
    else if (f.no === 13) {
      let link = { traceId: '', spanId: '' };
      for (const l of fields(f.bytes)) {
        if (l.no === 1) link = { ...link, traceId: hex(l.bytes) };
        else if (l.no === 2) link = { ...link, spanId: hex(l.bytes) };
      }
      links.push(link);
    } else if (f.no === 15) {
      for (const s of fields(f.bytes)) {
        if (s.no === 2 && s.bytes.length) statusMessage = str(s);
        else if (s.no === 3) status = STATUS[s.varint] ?? 'unset';
      }
    }
  }
  return {
    traceId,
    spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name,
    service,
    kind,
    startMs,
    endMs,
    status,
    ...(statusMessage ? { statusMessage } : {}),
    attributes: keyValues(buf, 9),
    ...(links.length ? { links } : {}),
  };
}

/** Spans of a protobuf `ExportTraceServiceRequest`. */
export function decodeProtobufTraces(buf: Uint8Array): SpanRecord[] {
  const spans: SpanRecord[] = [];
  for (const rs of fields(buf)) {
    if (rs.no !== 1) continue;
    let service = 'unknown';
    const scopeSpans: Uint8Array[] = [];
    for (const f of fields(rs.bytes)) {
      if (f.no === 1) {
        const name = keyValues(f.bytes, 1)['service.name'];
        if (typeof name === 'string') service = name;
      } else if (f.no === 2) scopeSpans.push(f.bytes);
    }
    for (const ss of scopeSpans)
      for (const f of fields(ss)) if (f.no === 2) spans.push(protoSpan(f.bytes, service));
  }
  return spans;
}

// ---------------------------------------------------------------- JSON encoding

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
  bytesValue?: string;
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: JsonKeyValue[];
  status?: { code?: number; message?: string };
  links?: { traceId?: string; spanId?: string }[];
}
interface JsonTraces {
  resourceSpans?: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: { spans?: JsonSpan[] }[] }[];
}

function jsonValue(v: JsonAnyValue | undefined): AttributeValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(jsonValue);
  if (v.kvlistValue) return JSON.stringify(jsonAttributes(v.kvlistValue.values));
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

function jsonAttributes(kvs: JsonKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of kvs ?? []) out[kv.key] = jsonValue(kv.value);
  return out;
}

const jsonNanosToMs = (v: string | number | undefined): number =>
  v === undefined ? 0 : Number(BigInt(v) / 1000n) / 1000;

/** Spans of a JSON `ExportTraceServiceRequest` (ids in hex, as OTLP/JSON specifies). */
export function decodeJsonTraces(text: string): SpanRecord[] {
  let body: JsonTraces;
  try {
    body = JSON.parse(text) as JsonTraces;
  } catch (err) {
    throw new OtlpDecodeError(`invalid JSON: ${(err as Error).message}`);
  }
  const spans: SpanRecord[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const name = jsonAttributes(rs.resource?.attributes)['service.name'];
    const service = typeof name === 'string' ? name : 'unknown';
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: (s.traceId ?? '').toLowerCase(),
          spanId: (s.spanId ?? '').toLowerCase(),
          ...(s.parentSpanId ? { parentSpanId: s.parentSpanId.toLowerCase() } : {}),
          name: s.name ?? '',
          service,
          kind: s.kind ?? 0,
          startMs: jsonNanosToMs(s.startTimeUnixNano),
          endMs: jsonNanosToMs(s.endTimeUnixNano),
          status: STATUS[s.status?.code ?? 0] ?? 'unset',
          ...(s.status?.message ? { statusMessage: s.status.message } : {}),
          attributes: jsonAttributes(s.attributes),
          ...(s.links?.length
            ? {
                links: s.links.map((l) => ({
                  traceId: (l.traceId ?? '').toLowerCase(),
                  spanId: (l.spanId ?? '').toLowerCase(),
                })),
              }
            : {}),
        });
      }
    }
  }
  return spans;
}
