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

const storage = new AsyncLocalStorage<CallContext>();

/** The context of the request being handled, if any. */
export function currentCallContext(): CallContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `ctx` as the current call context. */
export function runInCallContext<T>(ctx: CallContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A request id taken from a header when it is sane, otherwise a fresh one. */
export function requestIdFrom(value: unknown): string {
  return typeof value === 'string' && REQUEST_ID.test(value) ? value : randomUUID();
}
