import { z } from 'zod';
import type { EventEnvelope, EventSchemas } from './envelope.js';
import { EventValidationError, type EventIssue } from './errors.js';

function issuesOf(error: z.ZodError, prefix: string): EventIssue[] {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.'),
    message: i.message,
  }));
}

/**
 * Validates the payload of an outgoing event against its schema and returns the parsed data (with the
 * schema's defaults and transforms applied).
 * @throws EventValidationError naming the event type and every invalid field.
 */
export function validateOutgoing(
  schemas: EventSchemas,
  type: string,
  data: unknown,
  source: string,
): unknown {
  const schema = schemas[type];
  if (!schema) {
    throw new EventValidationError(
      type,
      [{ path: 'type', message: `no schema for "${type}"` }],
      `Cannot publish event type "${type}" from ${source}: it has no schema. Known types: ${Object.keys(schemas).join(', ') || '(none)'}; add it to the schemas you pass (services/contracts)`,
    );
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new EventValidationError(
      type,
      issuesOf(result.error, 'data'),
      `Invalid event ${type} published by ${source}`,
    );
  }
  return result.data;
}

const envelopeShape = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  source: z.string().min(1),
  time: z.string().min(1),
  data: z.unknown(),
});

/**
 * Parses a received message body into a typed envelope: JSON, the envelope's fields, and the payload
 * against the schema of its type.
 * @throws EventValidationError with the reason, which becomes the dead letter's `failure-reason`.
 */
export function parseIncoming(schemas: EventSchemas, body: string | undefined, queue: string): EventEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    throw new EventValidationError(
      undefined,
      [{ path: '', message: 'body is not JSON' }],
      `Invalid message on ${queue}`,
    );
  }
  const env = envelopeShape.safeParse(json);
  if (!env.success) {
    throw new EventValidationError(
      undefined,
      issuesOf(env.error, ''),
      `Message on ${queue} is not an event envelope`,
    );
  }
  const { type } = env.data;
  const schema = schemas[type];
  if (!schema) {
    throw new EventValidationError(
      type,
      [{ path: 'type', message: `no schema for "${type}" on this consumer` }],
      `Unexpected event type ${type} on ${queue}`,
    );
  }
  const data = schema.safeParse(env.data.data);
  if (!data.success) {
    throw new EventValidationError(type, issuesOf(data.error, 'data'), `Invalid event ${type} on ${queue}`);
  }
  return { ...env.data, data: data.data };
}
