import { Injectable } from '@nestjs/common';
import type { ExecutionContext, NestMiddleware } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { isIP } from 'node:net';
import type { MsgHdrs } from 'nats';
import { Headers } from '@baton/contracts';
import type { Authenticated } from './principal-slot';
import { bindCallContext, requestIdFrom, runInCallScope } from './call-context';
import type { CallContext } from './call-context';

interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
}

/**
 * The client address a request or message carries, when it is an IP address (as the gateway
 * sends): anything else, which no Baton process sends, counts as none rather than reaching the
 * throttles or the audit log. An IPv6 zone (`fe80::1%eth0`) names an interface of the host that
 * saw the address and means nothing to any other, so it is dropped: it is also of any length,
 * which the audit log's column is not.
 */
const clientIpFrom = (value: string | undefined): string | undefined =>
  value && isIP(value) !== 0 ? value.split('%', 1)[0] : undefined;

/**
 * The call context of a request or message: the request id and client address it came with and,
 * once the guard has verified it, the caller's token and principal.
 */
export function callContextOf(ctx: ExecutionContext, auth?: Authenticated): CallContext {
  if (ctx.getType() === 'rpc') {
    const headers = ctx.switchToRpc().getContext<NatsContext>().getHeaders() as MsgHdrs | undefined;
    return {
      requestId: requestIdFrom(headers?.get(Headers.requestId)),
      clientIp: clientIpFrom(headers?.get(Headers.clientIp)),
      token: auth?.token,
      principal: auth?.principal,
    };
  }
  const req = ctx.switchToHttp().getRequest<HttpRequestLike>();
  return {
    requestId: requestIdFrom(req.headers[Headers.requestId]),
    clientIp: clientIpFrom(req.ip),
    token: auth?.token,
    principal: auth?.principal,
  };
}

/**
 * Binds the call context of the request being guarded (`callContextOf`) to its scope, so that `BatonClient` forwards
 * the caller's token and request id without the handler passing anything. A request that reached
 * the guard outside any scope means the service was not started the Baton way (`BatonAuthModule`'s
 * middleware for HTTP, `startNatsService` for NATS): that is refused loudly rather than letting
 * outgoing requests fall back to the service's own identity.
 */
export function bindCallContextOf(callContext: CallContext): void {
  if (!bindCallContext(callContext)) {
    throw new Error(
      'No call scope: serve HTTP through BatonAuthModule and NATS through startNatsService()',
    );
  }
}

/** Opens the call scope of each HTTP request (BatonAuthModule applies it to every route). */
@Injectable()
export class CallScopeMiddleware implements NestMiddleware {
  use(_req: unknown, _res: unknown, next: () => void): void {
    runInCallScope(next);
  }
}
