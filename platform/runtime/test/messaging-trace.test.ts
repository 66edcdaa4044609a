import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createConsumer, createPublisher } from '../src/messaging/index.js';
import { startMessagingStack, type MessagingStack } from './support/messaging-stack.js';
import { schemas, testSystem } from './support/messaging-system.js';
import { silentLog, until } from './support/messaging-queues.js';

let stack: MessagingStack;
const contextManager = new AsyncLocalStorageContextManager();
beforeAll(async () => {
  stack = await startMessagingStack(testSystem);
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(async () => {
  context.disable();
  await stack.stop();
});

it('continues the producer trace in the consumer across SNS -> SQS', async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('test');
  const topic = stack.resources.topics[0]!;
  const queue = stack.resources.queues.find((q) => q.service === 'shipping')!;
  const publisher = createPublisher({
    source: 'billing',
    schemas,
    sqs: stack.sqs,
    sns: stack.sns,
    topics: { orders: topic.arn },
    tracer,
  });
  let handlerTraceId = '';
  const consumer = createConsumer({
    queueUrl: queue.url,
    schemas,
    sqs: stack.sqs,
    log: silentLog,
    waitTimeSeconds: 1,
    tracer,
    handler: () => {
      handlerTraceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
    },
  });
  consumer.start();
  const root = tracer.startSpan('POST /orders', { kind: SpanKind.SERVER });
  await context.with(trace.setSpan(context.active(), root), () =>
    publisher.publish('orders', 'order.paid', { orderId: 'o-1' }),
  );
  root.end();
  await until(() => handlerTraceId !== '');
  await consumer.stop();

  const spans = exporter.getFinishedSpans();
  const producer = spans.find((s) => s.kind === SpanKind.PRODUCER)!;
  const consumerSpan = spans.find((s) => s.kind === SpanKind.CONSUMER)!;
  expect(producer.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
  expect(consumerSpan.spanContext().traceId).toBe(root.spanContext().traceId);
  expect(consumerSpan.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
  expect(handlerTraceId).toBe(root.spanContext().traceId);
  expect(consumerSpan.name).toBe(`process ${queue.name}`);
  expect(producer.name).toBe(`publish ${topic.name}`);
  expect(producer.attributes['messaging.operation.type']).toBe('send');
});
