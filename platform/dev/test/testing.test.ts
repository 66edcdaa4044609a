import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { consumeQueueUrlVar, ENV, peerUrlVar } from '@flotilla/model';
import { z } from 'zod';
import { eventually, startTestStack, type TestStack } from '../src/testing.js';
import { emulatorClients, testSystem } from './support.js';

const thingEvents = {
  'thing.created': z.object({ id: z.string() }),
  'thing.deleted': z.object({ id: z.string() }),
};

describe('@flotilla/dev/testing', () => {
  let stack: TestStack;
  let clients: ReturnType<typeof emulatorClients>;
  let sqs: SQSClient;
  beforeAll(async () => {
    stack = await startTestStack(testSystem);
    clients = emulatorClients(stack.messagingEndpoint);
    ({ sqs } = clients);
  });
  afterAll(async () => {
    clients.destroy();
    await stack?.stop();
  });

  const receive = async (service: string): Promise<string[]> => {
    const url = stack.varsFor(service)[consumeQueueUrlVar('things')]!;
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    return Messages.map((m) => (JSON.parse(m.Body!) as { type: string }).type);
  };

  it("gives a service envFor's variables with an ephemeral port, telemetry off and the test's overrides", () => {
    const vars = stack.varsFor('web', {
      [peerUrlVar('catalog')]: 'http://127.0.0.1:5555',
      LOG_LEVEL: 'debug',
    });
    expect(vars).toMatchObject({
      PORT: '0',
      OTEL_SDK_DISABLED: 'true',
      LOG_LEVEL: 'debug',
      [peerUrlVar('catalog')]: 'http://127.0.0.1:5555',
    });
    expect(vars[ENV.databaseDir]).toMatch(/flotilla-test-devtest-[^/]+\/web$/);
    expect(() => stack.varsFor('nope')).toThrow(/nope/);
  });

  it("publishes as a service to the model's topic, through its subscriptions and their filters", async () => {
    const web = stack.publisherAs('web', thingEvents);
    await web.publish('things', 'thing.created', { id: 't-1' });
    // worker takes thing.created only, audit everything, catalog thing.deleted only.
    expect(
      await eventually('worker got it', async () => {
        const got = await receive('worker');
        return got.length ? got : undefined;
      }),
    ).toEqual(['thing.created']);
    expect(await receive('audit')).toEqual(['thing.created']);
    expect(await receive('catalog')).toEqual([]);
    await expect(web.publish('things', 'thing.created', { id: 7 } as never)).rejects.toThrow();
  });

  it('eventually returns the first value the probe gives, and names what it waited for when it times out', async () => {
    let calls = 0;
    expect(await eventually('three calls', async () => (++calls === 3 ? 'done' : undefined))).toBe('done');
    expect(calls).toBe(3);
    await expect(eventually('the impossible', async () => undefined, 300)).rejects.toThrow(
      'timed out waiting for the impossible (300 ms)',
    );
  });

  it('stop removes the databases directory', async () => {
    const other = await startTestStack(testSystem);
    const databases = dirname(other.varsFor('web')[ENV.databaseDir]!);
    expect((await stat(databases)).isDirectory()).toBe(true);
    await other.stop();
    await expect(stat(databases)).rejects.toThrow();
  });
});
