/**
 * The consumer's metrics, so an operator sees a consumer in trouble without its pod failing readiness:
 * counters of failed receives, failed heartbeats, handlers past their deadline and messages by outcome, and
 * gauges of whether receiving is paused for a dependency and of receive failures in a row. Each carries the
 * queue as `messaging.destination.name`.
 * @see https://opentelemetry.io/docs/specs/semconv/messaging/messaging-metrics/
 */
import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';

/** What happened to a message. */
export type MessageOutcome = 'handled' | 'retried' | 'dead-lettered' | 'released' | 'timed-out';

/** What the gauges read when they are collected. */
export interface ConsumerGaugeState {
  readonly paused: boolean;
  readonly receiveFailuresInARow: number;
}

export interface ConsumerMetrics {
  receiveFailed(errorType: string): void;
  heartbeatFailed(): void;
  handlerTimedOut(): void;
  message(outcome: MessageOutcome): void;
  /** Stops observing the gauges (on stop). */
  close(): void;
}

export function consumerMetrics(
  meter: Meter,
  queue: string,
  state: () => ConsumerGaugeState,
): ConsumerMetrics {
  const base: Attributes = { 'messaging.destination.name': queue };
  const counter = (name: string, description: string) => meter.createCounter(name, { description });
  /** An observable gauge reading `value` at each collection; returns what stops it. */
  const gauge = (name: string, description: string, value: () => number): (() => void) => {
    const instrument = meter.createObservableGauge(name, { description });
    const observe = (r: ObservableResult) => r.observe(value(), base);
    instrument.addCallback(observe);
    return () => instrument.removeCallback(observe);
  };
  const receiveFailures = counter(
    'flotilla.consumer.receive.failures',
    'ReceiveMessage calls that failed or ran past their deadline',
  );
  const heartbeatFailures = counter(
    'flotilla.consumer.heartbeat.failures',
    'Visibility heartbeats that failed or ran past their deadline',
  );
  const timeouts = counter(
    'flotilla.consumer.handler.timeouts',
    'Handlers that ran past their deadline (their message was released)',
  );
  const messages = counter('flotilla.consumer.messages', 'Messages processed, by outcome (flotilla.outcome)');
  const stops = [
    gauge(
      'flotilla.consumer.paused',
      '1 while receiving is paused because a dependency of the handlers is down',
      () => (state().paused ? 1 : 0),
    ),
    gauge(
      'flotilla.consumer.receive.failures_in_a_row',
      'ReceiveMessage failures since the last successful receive',
      () => state().receiveFailuresInARow,
    ),
  ];
  return {
    receiveFailed: (errorType) => receiveFailures.add(1, { ...base, 'error.type': errorType }),
    heartbeatFailed: () => heartbeatFailures.add(1, base),
    handlerTimedOut: () => timeouts.add(1, base),
    message: (outcome) => messages.add(1, { ...base, 'flotilla.outcome': outcome }),
    close: () => stops.forEach((stop) => stop()),
  };
}
