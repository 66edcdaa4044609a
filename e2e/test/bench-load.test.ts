/**
 * The HTTP benchmark's load generator against a real node:http server that stalls every answer for its
 * first moments, the way a server settling at a new rate does: a paced run's settling seconds are sent and
 * must succeed, but their latencies stay out of the percentiles.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runLoad } from '../bench/http/load.js';

/** How long the server holds each answer during its stall. */
const STALL_MS = 200;
/** How long the stall lasts from the first request of a run. */
const STALL_WINDOW_MS = 300;

let server: Server;
let url: string;
/** When the current run's first request arrived; reset before each run. */
let firstRequestAt: number | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    firstRequestAt ??= performance.now();
    const answer = () =>
      // With its length: the paced generator reads Content-Length answers only (as every contender's are).
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }).end('{}');
    if (performance.now() - firstRequestAt < STALL_WINDOW_MS) setTimeout(answer, STALL_MS);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** 200 req/s for half a second counted, on enough connections that the stall never runs out of them. */
async function paced(settleSeconds: number) {
  firstRequestAt = undefined;
  return runLoad({ url, connections: 60, rate: 200, seconds: 0.5, settleSeconds });
}

describe('the paced load generator', () => {
  it('counts every request of a run without settling seconds, so the stall sets its p99', async () => {
    const result = await paced(0);
    expect(result.failures).toBe(0);
    expect(result.total).toBe(100);
    expect(result.measured).toBe(100);
    expect(result.p99).toBeGreaterThanOrEqual(STALL_MS);
  });

  it('sends the settling seconds but leaves their latencies out', async () => {
    const result = await paced(1);
    expect(result.failures).toBe(0);
    expect(result.total).toBe(300);
    expect(result.measured).toBe(100);
    // The stall ended within the settling second: no counted request waited behind it.
    expect(result.p99).toBeLessThan(STALL_MS);
  });
});
