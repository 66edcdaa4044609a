import type { NextFunction, Request, RequestHandler, Response } from 'express';

interface InFlight {
  readonly method: string;
  readonly path: string;
  readonly started: number;
  readonly res: Response;
}

/**
 * Tracks requests being handled, so shutdown can wait for them, tell their clients to close the
 * connection (`Connection: close`) and name the ones that missed the deadline.
 */
export class InFlightRequests {
  readonly #requests = new Set<InFlight>();
  readonly #waiters: (() => void)[] = [];
  #closing = false;

  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const entry: InFlight = { method: req.method, path: req.path, started: performance.now(), res };
      this.#requests.add(entry);
      // During shutdown a kept-alive connection would carry the next request to a closing server.
      if (this.#closing) res.setHeader('Connection', 'close');
      res.once('close', () => {
        this.#requests.delete(entry);
        if (this.#requests.size === 0) for (const wake of this.#waiters.splice(0)) wake();
      });
      next();
    };
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
      (r) => `${r.method} ${r.path} (running ${Math.round(now - r.started)} ms)`,
    );
  }
}
