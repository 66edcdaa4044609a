export { createHttpApp, type HttpApp, type HttpAppOptions } from './app.js';
export {
  HttpError,
  ValidationError,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPES,
  type FieldError,
  type HttpErrorOptions,
  type Problem,
} from './problem.js';
export { validate, requireJson, JSON_TYPES, type RequestSchemas } from './validate.js';
export { errorHandler, notFound, sendProblem } from './errors.js';
export { requestId, requestIdOf, REQUEST_ID_HEADER } from './request-id.js';
export { observeRequests, routeOf } from './observe.js';
