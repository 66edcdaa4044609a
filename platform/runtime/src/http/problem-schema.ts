/**
 * The problem documents the kit answers with (`problem.ts`), as zod schemas: what API declarations use for
 * their error responses, and what the OpenAPI documents publish.
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
import { z } from 'zod';

/** An RFC 9457 problem document as the kit writes it; other members (extensions) may follow. */
export const Problem = z
  .looseObject({
    type: z.string().describe('URI reference identifying the problem type'),
    title: z.string().describe('Short summary of the problem type'),
    status: z.number().int().min(100).max(599).describe('The HTTP status code'),
    detail: z.string().optional().describe('What went wrong this time, written for the caller'),
    instance: z.string().optional().describe('The request path this occurrence is about'),
    requestId: z.string().optional().describe('The request id (`x-request-id`) to quote when reporting it'),
  })
  .meta({ id: 'Problem', title: 'Problem', description: 'An RFC 9457 problem document' });

/** One invalid field of a request (`FieldError`). */
export const FieldErrorSchema = z
  .object({
    location: z.enum(['body', 'params', 'query', 'headers']),
    path: z
      .string()
      .describe('Path of the field inside its part, e.g. `items[0].quantity`; empty for the whole part'),
    message: z.string(),
  })
  .meta({ id: 'FieldError', title: 'FieldError' });

/** The kit's 400: a problem that lists the invalid fields when the request failed validation. */
export const ValidationProblem = Problem.extend({
  errors: z.array(FieldErrorSchema).optional().describe('Every invalid field (validation failures)'),
}).meta({
  id: 'ValidationProblem',
  title: 'ValidationProblem',
  description:
    'An RFC 9457 problem document; `errors` lists every invalid field of a request that failed validation',
});
