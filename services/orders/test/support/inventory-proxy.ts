/**
 * A real HTTP proxy in front of inventory that can hold or delay what passes, the way a slow network or an
 * overloaded peer does, and records the reservation and release calls it saw.
 *
 * - `hold('reservation')`: the next reservation requests wait before they are forwarded (inventory sees them
 *   late, maybe after orders gave up on them);
 * - `hold('reservation-answer')`: they are forwarded at once (inventory commits) and their answers wait;
 * - `delayAnswers(ms)`: every answer from inventory reaches orders `ms` late.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where a request can be held. */
export type HoldPoint = 'reservation' | 'reservation-answer';

/** Requests held at one point, until {@link Hold.letGo}. */
export interface Hold {
  /** Resolves once the first request is held. */
  readonly reached: Promise<void>;
  /** Lets every request held (and to be held) by this hold go on. */
  letGo(): void;
}

export interface InventoryProxy {
  readonly url: string;
  /** Holds the next `count` requests at `point` (see the module comment). */
  hold(point: HoldPoint, count?: number): Hold;
  /** Delays every answer by `ms` from now on; `undefined` ends the delay. */
  delayAnswers(ms: number | undefined): void;
  /** The reservation requests that arrived, in order. */
  readonly reservations: { reservationId: string; orderId: string }[];
  /** Paths of the release calls that arrived, in order. */
  readonly releases: string[];
  /** Statuses inventory answered to reservation requests (whether or not the answer reached orders). */
  readonly reservationAnswers: number[];
  /** Statuses inventory answered to release calls (whether or not the answer reached orders). */
  readonly releaseAnswers: number[];
  close(): Promise<void>;
}

/** Headers of one hop, or that fetch recomputes (it decodes the body, so its length and encoding change). */
const NOT_FORWARDED = ['host', 'connection', 'content-length', 'transfer-encoding', 'content-encoding'];

interface ActiveHold {
  remaining: number;
  reached: () => void;
  gate: Promise<void>;
}

export async function startInventoryProxy(upstream: string): Promise<InventoryProxy> {
  const holds: Record<HoldPoint, ActiveHold[]> = { reservation: [], 'reservation-answer': [] };
  let delayMs: number | undefined;
  const reservations: InventoryProxy['reservations'] = [];
  const releases: string[] = [];
  const reservationAnswers: number[] = [];
  const releaseAnswers: number[] = [];

  const pass = async (point: HoldPoint) => {
    const hold = holds[point].find((h) => h.remaining > 0);
    if (!hold) return;
    hold.remaining -= 1;
    hold.reached();
    await hold.gate;
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const reservation = req.method === 'POST' && req.url === '/internal/reservations';
      if (reservation) {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as {
          reservationId: string;
          orderId: string;
        };
        reservations.push({ reservationId: body.reservationId, orderId: body.orderId });
        await pass('reservation');
      }
      const release = req.url?.endsWith('/release') ?? false;
      if (release) releases.push(req.url!);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && !NOT_FORWARDED.includes(name)) headers.set(name, value);
      }
      const delay = delayMs;
      const answer = await fetch(`${upstream}${req.url}`, {
        method: req.method!,
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
      });
      const body = Buffer.from(await answer.arrayBuffer());
      if (release) releaseAnswers.push(answer.status);
      if (reservation) {
        reservationAnswers.push(answer.status);
        await pass('reservation-answer');
      }
      if (delay !== undefined) await new Promise((resolve) => setTimeout(resolve, delay));
      const out: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (!NOT_FORWARDED.includes(name)) out[name] = value;
      });
      // The caller may have given up meanwhile: then the answer goes nowhere, as on a real network.
      if (!res.destroyed) res.writeHead(answer.status, out).end(body);
    })().catch((error: unknown) => res.destroy(error as Error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold(point, count = 1) {
      let reached!: () => void;
      let letGo!: () => void;
      const hold: ActiveHold = {
        remaining: count,
        reached: () => reached(),
        gate: new Promise<void>((resolve) => (letGo = resolve)),
      };
      const reachedOnce = new Promise<void>((resolve) => (reached = resolve));
      holds[point].push(hold);
      return {
        reached: reachedOnce,
        letGo() {
          hold.remaining = 0;
          holds[point] = holds[point].filter((h) => h !== hold);
          letGo();
        },
      };
    },
    delayAnswers(ms) {
      delayMs = ms;
    },
    reservations,
    releases,
    reservationAnswers,
    releaseAnswers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
