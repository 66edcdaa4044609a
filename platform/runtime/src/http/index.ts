export { createHttpApp, type HttpApp, type HttpAppOptions } from './app.js';
export { createHttpServer } from './server.js';
export {
  HttpError,
  ValidationError,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPES,
  type FieldError,
  type HttpErrorOptions,
  type Problem,
} from './problem.js';
export { validate, JSON_TYPES, type RequestSchemas } from './validate.js';
export { sendProblem } from './errors.js';
export { requestId, REQUEST_ID_HEADER } from './request-id.js';
export { observeRequests } from './observe.js';
