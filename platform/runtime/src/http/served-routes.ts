/**
 * The declared APIs an app serves, kept beside its router: the source of its `/openapi.json` and of the
 * 405 (with `Allow`) for a path it serves under other methods.
 */
import type { Api, RouteMethod } from './contract.js';

interface Matcher {
  readonly method: RouteMethod;
  readonly pattern: RegExp;
}

/** What an app serves of its declared APIs. */
export class ServedRoutes {
  readonly #apis: Api[] = [];
  readonly #matchers: Matcher[] = [];

  /** The APIs served, in the order they were added. */
  get apis(): readonly Api[] {
    return this.#apis;
  }

  add(api: Api): void {
    this.#apis.push(api);
    for (const route of Object.values(api.routes))
      this.#matchers.push({ method: route.method, pattern: pathPattern(route.path) });
  }

  /**
   * The methods of the declared routes whose path matches `path` (with HEAD for GET), or none. A request with
   * another method on such a path gets 405 and this list as `Allow`.
   * @see https://www.rfc-editor.org/rfc/rfc9110#name-405-method-not-allowed
   */
  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    for (const m of this.#matchers) {
      if (!m.pattern.test(path)) continue;
      methods.add(m.method);
      if (m.method === 'GET') methods.add('HEAD');
    }
    return [...methods];
  }
}

const registries = new WeakMap<object, ServedRoutes>();

/** The served routes of a kit app's router (created with the app), or undefined for another router. */
export function servedRoutesOf(router: object): ServedRoutes | undefined {
  return registries.get(router);
}

/** Gives a kit app's router its registry. */
export function attachServedRoutes(router: object): ServedRoutes {
  const served = new ServedRoutes();
  registries.set(router, served);
  return served;
}

/**
 * A route path as Express 5's router matches it by default: case-insensitive, a trailing slash optional, a
 * `:name` parameter one non-empty segment.
 */
function pathPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`, 'i');
}
