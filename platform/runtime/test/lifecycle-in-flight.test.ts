import { describe, expect, it } from '@jest/globals';
import type { Request, Response } from 'express';
import { InFlightRequests } from '../src/lifecycle/in-flight.js';

/** A request and its response as the tracker sees them: method, path, and the headers set on the response. */
function exchange(path: string, headersSent = false) {
  const headers: Record<string, string> = {};
  const req = { method: 'GET', path } as Request;
  const res = {
    headersSent,
    setHeader: (k: string, v: string) => void (headers[k] = v),
  } as unknown as Response;
  return { req, res, headers };
}

describe('requests in flight', () => {
  it('tracks requests in the order they began, whichever ends first', async () => {
    const tracker = new InFlightRequests();
    const [a, b, c, d] = ['/a', '/b', '/c', '/d'].map((p) => exchange(p));
    const ta = tracker.begin(a!.req, a!.res);
    const tb = tracker.begin(b!.req, b!.res);
    const tc = tracker.begin(c!.req, c!.res);
    expect(tracker.size).toBe(3);
    tracker.end(tb);
    // Ending twice (a close after an abort) changes nothing.
    tracker.end(tb);
    expect(tracker.size).toBe(2);
    expect(tracker.describe().map((l) => l.split(' (')[0])).toEqual(['GET /a', 'GET /c']);
    tracker.end(tc);
    const td = tracker.begin(d!.req, d!.res);
    expect(tracker.describe().map((l) => l.split(' (')[0])).toEqual(['GET /a', 'GET /d']);
    let idle = false;
    const waiting = tracker.idle().then(() => (idle = true));
    tracker.end(ta);
    await Promise.resolve();
    expect(idle).toBe(false);
    tracker.end(td);
    await waiting;
    expect(tracker.size).toBe(0);
    expect(tracker.describe()).toEqual([]);
  });

  it('asks clients to close their connection once closing, for requests in flight and new ones', () => {
    const tracker = new InFlightRequests();
    const open = exchange('/open');
    const sent = exchange('/sent', true);
    tracker.begin(open.req, open.res);
    tracker.begin(sent.req, sent.res);
    tracker.markClosing();
    const late = exchange('/late');
    tracker.begin(late.req, late.res);
    expect(open.headers).toEqual({ Connection: 'close' });
    // Too late for headers on a response that already sent them.
    expect(sent.headers).toEqual({});
    expect(late.headers).toEqual({ Connection: 'close' });
  });
});
