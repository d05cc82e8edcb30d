import { Injectable } from '@nestjs/common';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { Observable } from 'rxjs';
import type { MsgHdrs } from 'nats';
import { Headers } from '@baton/contracts';
import { authenticatedOf } from './principal-slot';
import { requestIdFrom, runInCallContext } from './call-context';
import type { CallContext } from './call-context';

interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
}

/**
 * Runs every handler inside a call context (AsyncLocalStorage) holding the verified caller's token
 * and the request id, so that `BatonClient` forwards them without the handler passing anything.
 */
@Injectable()
export class CallContextInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const callContext = this.contextOf(ctx);
    return new Observable((subscriber) => {
      const subscription = runInCallContext(callContext, () => next.handle().subscribe(subscriber));
      return () => subscription.unsubscribe();
    });
  }

  private contextOf(ctx: ExecutionContext): CallContext {
    const auth = authenticatedOf(ctx);
    if (ctx.getType() === 'rpc') {
      const headers = ctx.switchToRpc().getContext<NatsContext>().getHeaders() as
        MsgHdrs | undefined;
      return {
        requestId: requestIdFrom(headers?.get(Headers.requestId)),
        clientIp: headers?.get(Headers.clientIp) || undefined,
        token: auth?.token,
        principal: auth?.principal,
      };
    }
    const req = ctx.switchToHttp().getRequest<HttpRequestLike>();
    return {
      requestId: requestIdFrom(req.headers[Headers.requestId]),
      clientIp: req.ip,
      token: auth?.token,
      principal: auth?.principal,
    };
  }
}
