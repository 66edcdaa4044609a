/**
 * Which failures of a handler the consumer takes for a dependency being down (it pauses and keeps the
 * message for the whole retry window) and which for the message's own (poison after a few receives): the
 * kit's real error classes, a real refused connection, and PostgreSQL's shutdown error.
 */
import { describe, expect, it } from '@jest/globals';
import { createConnection } from 'node:net';
import { CircuitOpenError, PeerClientError, PeerServerError, PeerTimeoutError } from '../src/client/index.js';
import { AwsDeadlineError } from '../src/wiring/aws-deadline.js';
import {
  DependencyUnavailableError,
  EventValidationError,
  failedDependency,
  PublishError,
} from '../src/messaging/index.js';

const call = { peer: 'inventory', method: 'POST', path: '/reservations' };
const publishFailure = (senderFault: boolean) =>
  new PublishError(
    { id: 'e1', destination: 'arn:topic', code: 'X', message: 'y', senderFault, attempts: 3 },
    'order.placed',
  );

async function refusedConnection(): Promise<Error> {
  return new Promise((resolve) => {
    // Port 1 on loopback: nothing listens there.
    createConnection({ host: '127.0.0.1', port: 1 }).on('error', resolve);
  });
}

describe('failedDependency', () => {
  it('names the dependency a failure blames', async () => {
    expect(failedDependency(new DependencyUnavailableError('ledger'))).toBe('ledger');
    expect(failedDependency(new CircuitOpenError(call))).toBe('peer inventory');
    expect(failedDependency(new PeerTimeoutError(call, 1500))).toBe('peer inventory');
    expect(failedDependency(new PeerServerError(call, 503, undefined, new Headers()))).toBe('peer inventory');
    expect(failedDependency(publishFailure(false))).toBe('SQS/SNS');
    expect(failedDependency(new AwsDeadlineError('SQS SendMessage', 1000, new Error('late')))).toBe('SQS');
    expect(failedDependency(new AwsDeadlineError("Cloud Map DiscoverInstances for 'x'", 2000, 0))).toBe(
      'Cloud Map',
    );
    expect(
      failedDependency(
        Object.assign(new Error('terminating connection due to administrator command'), {
          code: '57P01',
          severity: 'FATAL',
        }),
      ),
    ).toBe('database');
    expect(failedDependency(new Error('Connection terminated unexpectedly'))).toBe('database');
    expect(failedDependency(await refusedConnection())).toBe('127.0.0.1:1 (ECONNREFUSED)');
    // anywhere in the cause chain
    expect(failedDependency(new Error('charge failed', { cause: new CircuitOpenError(call) }))).toBe(
      'peer inventory',
    );
  });

  it("blames none for the message's own failures", () => {
    expect(failedDependency(new Error('cannot read properties of undefined'))).toBeUndefined();
    expect(failedDependency(new PeerServerError(call, 500, undefined, new Headers()))).toBeUndefined();
    expect(failedDependency(new PeerClientError(call, 409, undefined, new Headers()))).toBeUndefined();
    expect(failedDependency(publishFailure(true))).toBeUndefined();
    expect(failedDependency(new EventValidationError('x', [], 'invalid'))).toBeUndefined();
    expect(
      failedDependency(Object.assign(new Error('duplicate key'), { code: '23505', severity: 'ERROR' })),
    ).toBeUndefined();
    expect(failedDependency('a string')).toBeUndefined();
  });
});
