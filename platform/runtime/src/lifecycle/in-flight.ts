import type { Request, Response } from 'express';

/** One request being handled; what {@link InFlightRequests.begin} returns. */
export interface InFlight {
  readonly req: Request;
  readonly res: Response;
  readonly started: number;
}

/**
 * Tracks requests being handled, so shutdown can wait for them, tell their clients to close the
 * connection (`Connection: close`) and name the ones that missed the deadline. The HTTP layer calls
 * {@link begin} when a request arrives and {@link end} when its response closes (from the one `close`
 * listener it already has for the request log).
 */
export class InFlightRequests {
  readonly #requests = new Set<InFlight>();
  readonly #waiters: (() => void)[] = [];
  #closing = false;

  /** Starts tracking a request. */
  begin(req: Request, res: Response): InFlight {
    const entry: InFlight = { req, res, started: performance.now() };
    this.#requests.add(entry);
    // During shutdown a kept-alive connection would carry the next request to a closing server.
    if (this.#closing) res.setHeader('Connection', 'close');
    return entry;
  }

  /** Stops tracking a request whose response has closed. */
  end(entry: InFlight): void {
    this.#requests.delete(entry);
    if (this.#requests.size === 0) for (const wake of this.#waiters.splice(0)) wake();
  }

  get size(): number {
    return this.#requests.size;
  }

  /** From now on every response asks its client to close the connection. */
  markClosing(): void {
    this.#closing = true;
    for (const { res } of this.#requests) if (!res.headersSent) res.setHeader('Connection', 'close');
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.#requests.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** `GET /slow (running 1234 ms)` for each request still in flight. */
  describe(): string[] {
    const now = performance.now();
    return [...this.#requests].map(
      (r) => `${r.req.method} ${r.req.path} (running ${Math.round(now - r.started)} ms)`,
    );
  }
}
