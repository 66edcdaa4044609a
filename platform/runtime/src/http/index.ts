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
export {
  defineApi,
  problem,
  mergeApis,
  openApiPath,
  pathParameters,
  routeResponses,
  impliedResponses,
  ApiDeclarationError,
  type Api,
  type ApiSpec,
  type RouteSpec,
  type RouteMap,
  type RouteMethod,
  type ResponseSpec,
  type ResponseObject,
  type ProblemResponse,
  type ResponseLink,
  type FieldsSchema,
  type NormalizedResponse,
  type Reply,
  type RouteInput,
  type CallInput,
  type CallResult,
  type StatusOf,
} from './contract.js';
export { Problem as ProblemSchema, ValidationProblem, FieldErrorSchema } from './problem-schema.js';
export {
  serveApi,
  ResponseContractError,
  type ApiHandlers,
  type HandlersOf,
  type RouteHandler,
  type ServeApiOptions,
} from './serve.js';
export { ServedRoutes } from './served-routes.js';
export {
  openApiDocument,
  publicOpenApiDocument,
  publicDocumentTitle,
  matchesPathPrefix,
  OPENAPI_PATH,
  STORABLE_TEXT_PATTERN,
  OPENAPI_VERSION,
  type OpenApiDocument,
  type PublicPart,
  type PublicDocumentOptions,
  type JsonObject,
} from './openapi.js';
