import type { NextFunction, Request, Response } from 'express';

import { REQUEST_ID_HEADER } from '../kit.js';
import { randomUuid } from '../random-text.js';

export { REQUEST_ID_HEADER };

// Printable token characters only and bounded length: the id lands in logs and response headers.
const SANE_ID = /^[A-Za-z0-9._~:+=/-]{1,128}$/;

/** The caller's `x-request-id` when it is sane, else a new UUID. */
function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SANE_ID.test(value) ? value : randomUuid();
}

/** Sets `req.id` and echoes it in the `x-request-id` response header. */
export function requestId() {
  return function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
    req.id = requestIdOf(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, req.id);
    next();
  };
}
