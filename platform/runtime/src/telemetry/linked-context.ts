import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

/**
 * An OpenTelemetry context as an immutable linked list: `setValue` adds one small node in front of the
 * context it is called on, and `getValue` walks back to the first node with the key.
 *
 * Why not the API's own context (`BaseContext`): each one copies its parent's `Map` and makes three
 * closures, about 1 KB, and the kit makes at least one a request (the server span's, active while the
 * handler runs). Under load V8 kept those alive through young-generation collections and promoted them to
 * the old generation. The benchmark's kit (`POST` at 3000 req/s, 10% sampled and exported, measured with
 * `e2e/bench/http/gc.ts`) kept 233 KB alive per scavenge and promoted 205 KB with them, against 81 KB and
 * 13 KB with these, and a scavenge paused 1.80 ms against 0.88 ms. Contexts are short chains (a
 * request's span, a client call's span, tracing suppressed for an export), so a lookup takes few steps.
 * @see https://opentelemetry.io/docs/specs/otel/context/
 */
export class LinkedContext implements Context {
  readonly #parent: LinkedContext | undefined;
  readonly #key: symbol | undefined;
  readonly #value: unknown;

  constructor(parent?: LinkedContext, key?: symbol, value?: unknown) {
    this.#parent = parent;
    this.#key = key;
    this.#value = value;
  }

  getValue(key: symbol): unknown {
    if (this.#key === key) return this.#value;
    return this.#parent?.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return new LinkedContext(this, key, value);
  }

  /** A node that hides the key's value in every context behind it. */
  deleteValue(key: symbol): Context {
    return new LinkedContext(this, key, undefined);
  }
}

/**
 * The empty context the kit starts from: where a request or a message begins without a caller's trace,
 * and what {@link LinkedContextManager} reports when nothing is active.
 */
export const EMPTY_CONTEXT: Context = new LinkedContext();

/**
 * The SDK's context manager (`AsyncLocalStorage`), except that outside any active context it reports
 * {@link EMPTY_CONTEXT} instead of the API's `ROOT_CONTEXT`, so that every context made from the active
 * one (a span made active, tracing suppressed for an export) is a {@link LinkedContext}.
 */
export class LinkedContextManager extends AsyncLocalStorageContextManager {
  override active(): Context {
    const active = super.active();
    return active === ROOT_CONTEXT ? EMPTY_CONTEXT : active;
  }
}
