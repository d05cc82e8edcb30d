import type { ExecutionContext } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import type { Principal } from '../principal';

/**
 * Where the guard leaves what it verified for the rest of the pipeline. HTTP requests carry it as
 * `request.user` (the usual NestJS convention); a NATS message has no request object, so it is kept
 * beside the message's NatsContext for as long as that context lives.
 */
export interface Authenticated {
  principal: Principal;
  token: string;
}

const rpcSlots = new WeakMap<object, Authenticated>();

interface HttpRequestLike {
  user?: Principal;
  batonToken?: string;
}

export function setAuthenticated(ctx: ExecutionContext, auth: Authenticated): void {
  if (ctx.getType() === 'rpc') {
    rpcSlots.set(ctx.switchToRpc().getContext<NatsContext>(), auth);
    return;
  }
  const req = ctx.switchToHttp().getRequest<HttpRequestLike>();
  req.user = auth.principal;
  req.batonToken = auth.token;
}

export function authenticatedOf(ctx: ExecutionContext): Authenticated | undefined {
  if (ctx.getType() === 'rpc') {
    return rpcSlots.get(ctx.switchToRpc().getContext<NatsContext>());
  }
  const req = ctx.switchToHttp().getRequest<HttpRequestLike>();
  return req.user && req.batonToken ? { principal: req.user, token: req.batonToken } : undefined;
}

export function principalOf(ctx: ExecutionContext): Principal | undefined {
  return authenticatedOf(ctx)?.principal;
}
