/**
 * `useConsumer`: a consumer of one of the service's declared queues, its URL and dead-letter queue read
 * from `CONSUME_<KEY>_QUEUE_URL` / `CONSUME_<KEY>_DLQ_URL`, and its settings from the model through
 * `CONSUME_<KEY>_VISIBILITY_TIMEOUT_SECONDS`, `_HANDLER_TIMEOUT_SECONDS` and `_RETRY_WINDOW_MINUTES` (the
 * backoff follows from the window by `retryPolicy`, as the queue's redrive count does in the charts). With
 * `inbox`, the handler runs inside the idempotent-consumer transaction: its writes (and outbox rows) commit
 * together with "event processed", a redelivered event is acknowledged without running it again, and the
 * database is a declared dependency of the consumer (receiving pauses while it is down).
 */
import {
  consumeDlqUrlVar,
  consumeHandlerTimeoutVar,
  consumeQueueUrlVar,
  consumeRetryWindowVar,
  consumeVisibilityTimeoutVar,
  retryPolicy,
  SUBSCRIPTION_DEFAULTS,
} from '@flotilla/model';
import type { Transaction } from 'kysely';
import type { Database } from '../database/index.js';
import { createInbox } from '../inbox/inbox.js';
import {
  createConsumer,
  type ConsumedEvent,
  type Consumer,
  type ConsumerOptions,
  type MessageContext,
} from '../messaging/consumer.js';
import type { EventSchemas } from '../messaging/envelope.js';
import { useAwsClients } from './aws.js';
import { onStartPhase, onStopPhase } from './phases.js';
import {
  requireVar,
  WiringConfigError,
  type WiringEnv,
  type WiringOptions,
  type WiringTarget,
} from './target.js';

/**
 * The consumer options `useConsumer` passes through. The queue's visibility timeout, handler deadline and
 * backoff come from the model (the variables envFor writes, from which the queue itself was created); the
 * options of the same names override them in this process only, for tests and experiments: set them in
 * the subscription in service.ts instead, so the queue and its consumer agree.
 */
const TUNING_KEYS = [
  'concurrency',
  'batchSize',
  'receiveLoops',
  'waitTimeSeconds',
  'visibilityTimeoutSeconds',
  'handlerTimeoutSeconds',
  'heartbeat',
  'backoff',
  'poisonReceiveCount',
  'callTimeoutMs',
  'deleteDelayMs',
  'stopTimeoutMs',
  'dependencies',
  'dependencyPause',
] as const satisfies readonly (keyof ConsumerOptions<EventSchemas>)[];

/** Tuning of the consumer (see `ConsumerOptions` for each default). */
export type ConsumerTuning = Pick<ConsumerOptions<EventSchemas>, (typeof TUNING_KEYS)[number]>;

/** Options of a consumer without inbox: the handler must be idempotent by itself. */
export interface PlainConsumerOptions<S extends EventSchemas> extends WiringOptions, ConsumerTuning {
  /** Schemas of the event types the queue carries (a message of another type goes to the DLQ). */
  readonly schemas: S;
  readonly handler: (event: ConsumedEvent<S>, ctx: MessageContext) => Promise<void> | void;
  readonly inbox?: undefined;
}

/** What an inbox handler gets besides the event: the message context and the inbox transaction. */
export interface InboxMessageContext<DB> extends MessageContext {
  /** The transaction the event's processing record commits in: write through it only. */
  readonly trx: Transaction<DB>;
}

/** Options of a consumer with inbox (exactly-once effect per event id). */
export interface InboxConsumerOptions<S extends EventSchemas, DB> extends WiringOptions, ConsumerTuning {
  readonly schemas: S;
  /** The service database that holds the inbox and the handler's tables. */
  readonly inbox: Database<DB>;
  /**
   * Inbox name; two consumers of one service that handle the same event need different names.
   * @default `<service>.<key>`
   */
  readonly inboxName?: string;
  readonly handler: (event: ConsumedEvent<S>, ctx: InboxMessageContext<DB>) => Promise<void>;
}

/**
 * Consumes the queue `key` declared in the service's `consumes` (the topic name, or the command queue name).
 * The consumer starts in the `wiring` start hook (after the outbox relay), reports its state in `/readyz`
 * without failing readiness, and stops first on shutdown: it resolves when every handler has settled, so the
 * outbox relay, the AWS clients and the database close after them.
 * @throws WiringConfigError when `CONSUME_<KEY>_QUEUE_URL` is not set (the queue is not declared), or a
 * setting variable of the queue is not a whole number
 */
export function useConsumer<S extends EventSchemas, DB>(
  svc: WiringTarget,
  key: string,
  options: InboxConsumerOptions<S, DB>,
): Consumer;
export function useConsumer<S extends EventSchemas>(
  svc: WiringTarget,
  key: string,
  options: PlainConsumerOptions<S>,
): Consumer;
export function useConsumer<S extends EventSchemas, DB>(
  svc: WiringTarget,
  key: string,
  options: PlainConsumerOptions<S> | InboxConsumerOptions<S, DB>,
): Consumer {
  const env = options.env ?? svc.env;
  const name = svc.config.service.name;
  const queueUrl = requireVar(
    env,
    consumeQueueUrlVar(key),
    name,
    `Declare the queue in \`consumes\` (e.g. consumes: [{ topic: '${key}', events: [...] }])`,
  );
  const dlqUrl = env[consumeDlqUrlVar(key)]?.trim();
  const settings = queueSettings(env, key, name);
  const { sqs } = useAwsClients(svc, { env });

  let handler: ConsumerOptions<S>['handler'];
  if (options.inbox !== undefined) {
    const inbox = createInbox({ database: options.inbox, consumer: options.inboxName ?? `${name}.${key}` });
    const handle = options.handler;
    handler = async (event, ctx) => {
      const outcome = await inbox.handle(event, (trx) => handle(event, { ...ctx, trx }));
      if (outcome.duplicate) ctx.log.info('event already processed; acknowledged without handling it again');
    };
  } else {
    handler = options.handler;
  }

  const tuning = tuningOf(options);
  const policy = retryPolicy(settings.retryWindowMinutes);
  const consumer = createConsumer<S>({
    visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
    // Absent: the visibility timeout in force (the createConsumer default), also when tuning overrides it.
    ...(settings.handlerTimeoutSeconds !== undefined
      ? { handlerTimeoutSeconds: settings.handlerTimeoutSeconds }
      : {}),
    backoff: policy.backoff,
    poisonReceiveCount: policy.poisonReceiveCount,
    ...tuning,
    ...(options.inbox !== undefined
      ? { dependencies: { database: () => options.inbox!.check(), ...tuning.dependencies } }
      : {}),
    queueUrl,
    ...(dlqUrl ? { dlqUrl } : {}),
    schemas: options.schemas,
    handler,
    sqs,
    log: svc.log.child({ consumer: key }),
    health: svc.health,
  });
  onStartPhase(svc, 'consumers', () => consumer.start());
  onStopPhase(svc, 'consumers', () => consumer.stop());
  return consumer;
}

/** The queue's settings from the model's variables; a variable that is absent takes the model's default. */
function queueSettings(
  env: WiringEnv,
  key: string,
  service: string,
): { visibilityTimeoutSeconds: number; handlerTimeoutSeconds?: number; retryWindowMinutes: number } {
  const handlerTimeoutSeconds = positiveInteger(env, consumeHandlerTimeoutVar(key), service, undefined);
  return {
    visibilityTimeoutSeconds: positiveInteger(
      env,
      consumeVisibilityTimeoutVar(key),
      service,
      SUBSCRIPTION_DEFAULTS.visibilityTimeoutSeconds,
    ),
    ...(handlerTimeoutSeconds !== undefined ? { handlerTimeoutSeconds } : {}),
    retryWindowMinutes: positiveInteger(
      env,
      consumeRetryWindowVar(key),
      service,
      SUBSCRIPTION_DEFAULTS.retryWindowMinutes,
    ),
  };
}

function positiveInteger<F extends number | undefined>(
  env: WiringEnv,
  variable: string,
  service: string,
  fallback: F,
): number | F {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new WiringConfigError(
      variable,
      `${variable}=${JSON.stringify(raw)} in the environment of service '${service}' is not a whole number ` +
        `of 1 or more. envFor writes it from the subscription in services/${service}/service.ts; when running ` +
        "by hand, start the process with envFor's variables.",
    );
  }
  return value;
}

function tuningOf(options: ConsumerTuning): ConsumerTuning {
  const out: Record<string, unknown> = {};
  for (const k of TUNING_KEYS) if (options[k] !== undefined) out[k] = options[k];
  return out as ConsumerTuning;
}
