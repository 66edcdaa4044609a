import type { Logger } from 'pino';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The request id: the caller's `x-request-id` when sane, else generated. Echoed in the response. */
      id: string;
      /** Logger for this request: the service logger with `request_id` bound. */
      log: Logger;
    }
  }
}

export {};
