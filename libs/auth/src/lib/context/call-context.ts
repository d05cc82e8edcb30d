import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../principal';

/** What travels with a request through a service and on into the NATS requests it makes. */
export interface CallContext {
  requestId: string;
  /** The caller's access token, forwarded on every outgoing request made on its behalf. */
  token?: string;
  principal?: Principal;
  clientIp?: string;
}

/**
 * One per request or message, opened where it enters the process (the HTTP middleware, the NATS
 * server) so that everything it causes runs inside it; the guard binds the context once it has
 * read the request, and the error filter records a failure.
 */
interface CallScope {
  context?: CallContext;
  statusCode?: number;
}

const storage = new AsyncLocalStorage<CallScope>();

/** The context of the request being handled, if any. */
export function currentCallContext(): CallContext | undefined {
  return storage.getStore()?.context;
}

/** Runs `fn` with `ctx` as the current call context. */
export function runInCallContext<T>(ctx: CallContext, fn: () => T): T {
  return storage.run({ context: ctx }, fn);
}

/** Runs `fn` in a new scope of its own, whose context is bound once the request has been read. */
export function runInCallScope<T>(fn: () => T): T {
  return storage.run({}, fn);
}

/** Binds `ctx` to the current scope; false when the caller is not running in one. */
export function bindCallContext(ctx: CallContext): boolean {
  const scope = storage.getStore();
  if (!scope) {
    return false;
  }
  scope.context = ctx;
  return true;
}

/** Records the status the current request failed with (the error filter calls it). */
export function recordCallFailure(statusCode: number): void {
  const scope = storage.getStore();
  if (scope) {
    scope.statusCode = statusCode;
  }
}

/** The status the current request failed with, if it did. */
export function callFailure(): number | undefined {
  return storage.getStore()?.statusCode;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A request id taken from a header when it is sane, otherwise a fresh one. */
export function requestIdFrom(value: unknown): string {
  return typeof value === 'string' && REQUEST_ID.test(value) ? value : randomUUID();
}
