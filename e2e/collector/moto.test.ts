/**
 * moto's server serves the X-Ray and CloudWatch Logs calls the collector's awsxray and awsemf exporters
 * make (PutTraceSegments; CreateLogGroup, PutRetentionPolicy, CreateLogStream, PutLogEvents) and the reads
 * the round trip makes (GetTraceSummaries, BatchGetTraces; DescribeLogGroups, DescribeLogStreams,
 * GetLogEvents), with documents shaped as the X-Ray and EMF specifications define them. Where moto
 * differs from AWS, the test says so.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { GetTraceSummariesCommand, PutTraceSegmentsCommand, XRayClient } from '@aws-sdk/client-xray';
import { startMoto, type Moto } from '@flotilla/dev/testing';
import { emfDimensionSets, readEmfLogGroup, readTrace, xrayTraceId } from '../src/collector/aws-readers.js';
import { newTraceId } from '../src/collector/shop-order.js';

let moto: Moto;
let xray: XRayClient;
let logs: CloudWatchLogsClient;

beforeAll(async () => {
  moto = await startMoto({ region: 'eu-west-1' });
  const common = { endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials };
  xray = new XRayClient(common);
  logs = new CloudWatchLogsClient(common);
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

describe("moto's X-Ray", () => {
  it('stores segments and subsegments sent apart and returns them as one trace', async () => {
    const id = xrayTraceId(newTraceId());
    const now = Date.now() / 1000;
    const segment = {
      name: 'orders',
      id: 'aaaaaaaaaaaaaaa1',
      trace_id: id,
      start_time: now - 1,
      end_time: now,
    };
    const sub = {
      name: 'inventory',
      id: 'aaaaaaaaaaaaaaa2',
      trace_id: id,
      parent_id: segment.id,
      type: 'subsegment',
      namespace: 'remote',
      start_time: now - 0.8,
      end_time: now - 0.2,
    };
    const put = await xray.send(
      new PutTraceSegmentsCommand({ TraceSegmentDocuments: [JSON.stringify(segment), JSON.stringify(sub)] }),
    );
    expect(put.UnprocessedTraceSegments).toEqual([]);
    const trace = await readTrace(xray, id, {
      start: new Date((now - 60) * 1000),
      end: new Date((now + 60) * 1000),
    });
    expect(trace.listed).toBe(true);
    expect(trace.segments.map((s) => [s.name, s.parent_id]).sort()).toEqual([
      ['inventory', segment.id],
      ['orders', undefined],
    ]);
  });

  it('rejects a segment without end_time or in_progress, as X-Ray does', async () => {
    const id = xrayTraceId(newTraceId());
    const put = await xray.send(
      new PutTraceSegmentsCommand({
        TraceSegmentDocuments: [
          JSON.stringify({ name: 'x', id: 'bbbbbbbbbbbbbbb1', trace_id: id, start_time: 1 }),
        ],
      }),
    );
    expect(put.UnprocessedTraceSegments?.map((u) => u.Id)).toEqual(['bbbbbbbbbbbbbbb1']);
  });

  it('does not implement FilterExpression (AWS filters summaries by it): moto answers 500', async () => {
    const now = Date.now();
    await expect(
      xray.send(
        new GetTraceSummariesCommand({
          StartTime: new Date(now - 60_000),
          EndTime: new Date(now),
          FilterExpression: 'service("orders")',
        }),
      ),
    ).rejects.toThrow(/Not implemented/);
  });
});

describe("moto's CloudWatch Logs", () => {
  it('keeps the group retention and the EMF records put in its streams', async () => {
    const logGroupName = '/flotilla/shop/prod/metrics';
    await logs.send(new CreateLogGroupCommand({ logGroupName }));
    await logs.send(new PutRetentionPolicyCommand({ logGroupName, retentionInDays: 30 }));
    await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName: 'otel-collector' }));
    const record = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: 'Flotilla/shop',
            Dimensions: [['service.name', 'http.route']],
            Metrics: [{ Name: 'http.server.request.duration', Unit: 'Seconds' }],
          },
        ],
      },
      'service.name': 'orders',
      'http.route': '/api/orders',
      'http.server.request.duration': 0.012,
    };
    await logs.send(
      new PutLogEventsCommand({
        logGroupName,
        logStreamName: 'otel-collector',
        logEvents: [{ timestamp: Date.now(), message: JSON.stringify(record) }],
      }),
    );
    const read = await readEmfLogGroup(logs, logGroupName);
    expect(read).toMatchObject({ exists: true, retentionInDays: 30 });
    expect(read.records.map((r) => r.stream)).toEqual(['otel-collector']);
    expect(emfDimensionSets(read.records)).toEqual([['http.route', 'service.name']]);
  });

  it('reports a group that does not exist as absent', async () => {
    expect(await readEmfLogGroup(logs, '/flotilla/none')).toEqual({ exists: false, records: [] });
  });
});
