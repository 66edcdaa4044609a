/**
 * Reads back what the collector's AWS exporters wrote, through the AWS APIs a person would use: a trace
 * from X-Ray (GetTraceSummaries, then BatchGetTraces), and the embedded metric format (EMF) records of a
 * CloudWatch Logs group.
 * @see https://docs.aws.amazon.com/xray/latest/devguide/xray-api-gettingdata.html
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { BatchGetTracesCommand, GetTraceSummariesCommand, XRayClient } from '@aws-sdk/client-xray';

/** The X-Ray form of an OpenTelemetry trace id whose first 4 bytes are epoch seconds: `1-<8 hex>-<24 hex>`. */
export function xrayTraceId(traceId: string): string {
  if (!/^[0-9a-f]{32}$/.test(traceId)) throw new Error(`not a 32-hex-digit trace id: ${traceId}`);
  return `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`;
}

/** A segment or subsegment document, as X-Ray returns it (only the fields the checks read). */
export interface SegmentDocument {
  readonly id: string;
  readonly name: string;
  readonly trace_id?: string;
  readonly parent_id?: string;
  /** `subsegment` for a span that is part of a service's segment. */
  readonly type?: string;
  readonly origin?: string;
  readonly namespace?: string;
  readonly http?: { request?: { method?: string; url?: string }; response?: { status?: number } };
  readonly annotations?: Record<string, unknown>;
  readonly metadata?: Record<string, unknown>;
}

/** The trace of `traceId` (X-Ray form) if X-Ray lists it in the window: its summary ids and every segment. */
export async function readTrace(
  xray: XRayClient,
  traceId: string,
  window: { start: Date; end: Date },
): Promise<{ listed: boolean; segments: SegmentDocument[] }> {
  const batch = await xray.send(new BatchGetTracesCommand({ TraceIds: [traceId] }));
  const segments = (batch.Traces ?? [])
    .filter((t) => t.Id === traceId)
    .flatMap((t) => t.Segments ?? [])
    .map((s) => JSON.parse(s.Document ?? '{}') as SegmentDocument);
  // Listed after the segments are read: asked first, the summaries could predate segments that arrive
  // between the two calls, and a complete trace would be read as unlisted.
  const summaries = await xray.send(
    new GetTraceSummariesCommand({ StartTime: window.start, EndTime: window.end }),
  );
  const listed = (summaries.TraceSummaries ?? []).some((s) => s.Id === traceId);
  return { listed, segments };
}

/** One EMF record of a log group: its stream and the parsed JSON of the log event. */
export interface EmfRecord {
  readonly stream: string;
  readonly record: {
    readonly _aws?: {
      readonly CloudWatchMetrics?: readonly {
        readonly Namespace: string;
        readonly Dimensions: readonly (readonly string[])[];
        readonly Metrics: readonly { readonly Name: string; readonly Unit?: string }[];
      }[];
    };
    readonly [key: string]: unknown;
  };
}

/** The log group's retention in days (undefined: never expires) and every EMF record in its streams. */
export async function readEmfLogGroup(
  logs: CloudWatchLogsClient,
  logGroupName: string,
): Promise<{ exists: boolean; retentionInDays?: number; records: EmfRecord[] }> {
  const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: logGroupName }));
  const group = (groups.logGroups ?? []).find((g) => g.logGroupName === logGroupName);
  if (!group) return { exists: false, records: [] };
  const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName }));
  const records: EmfRecord[] = [];
  for (const stream of streams.logStreams ?? []) {
    const events = await logs.send(
      new GetLogEventsCommand({ logGroupName, logStreamName: stream.logStreamName!, startFromHead: true }),
    );
    for (const e of events.events ?? [])
      records.push({
        stream: stream.logStreamName!,
        record: JSON.parse(e.message ?? '{}') as EmfRecord['record'],
      });
  }
  return {
    exists: true,
    ...(group.retentionInDays !== undefined ? { retentionInDays: group.retentionInDays } : {}),
    records,
  };
}

/** Every dimension set the EMF records declare, each sorted, e.g. `['http.route', 'service.name']`. */
export function emfDimensionSets(records: readonly EmfRecord[]): string[][] {
  const sets = new Map<string, string[]>();
  for (const { record } of records)
    for (const directive of record._aws?.CloudWatchMetrics ?? [])
      for (const dims of directive.Dimensions) {
        const sorted = [...dims].sort();
        sets.set(sorted.join('\u0000'), sorted);
      }
  return [...sets.values()];
}
