import { HttpException, Injectable, UnauthorizedException } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { NatsContext } from '@nestjs/microservices';
import { Match } from 'nats';
import type { MsgHdrs } from 'nats';
import { Headers } from '@baton/contracts';
import { IS_PUBLIC_KEY } from '../auth.constants';
import { bindCallContextOf, callContextOf } from '../context/call-context.binding';
import { setAuthenticated } from '../context/principal-slot';
import type { Principal } from '../principal';
import { AccessTokenVerifier } from '../verification/access-token.verifier';

const INVALID = 'Invalid or missing access token';
const SCHEME = 'bearer ';

/** `Bearer <token>` (the scheme in any case); the token itself is read strictly by the verifier. */
function bearerToken(authorization: string | undefined): string | undefined {
  if (
    authorization === undefined ||
    authorization.length <= SCHEME.length ||
    authorization.slice(0, SCHEME.length).toLowerCase() !== SCHEME
  ) {
    return undefined;
  }
  return authorization.slice(SCHEME.length);
}

/**
 * The one guard for HTTP and NATS: secure by default, `@Public()` opts out. Reads the bearer token
 * from the Authorization header or the `authorization` message header, hands it to the verifier,
 * and refuses on any failure with the same 401 (503 while the revocation list is not current).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  private readonly publicRoutes = new WeakMap<object, WeakMap<Function, boolean>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    // Bound first, so that a refused request is logged with its request id too.
    const callContext = callContextOf(ctx);
    bindCallContextOf(callContext);
    if (this.isPublic(ctx)) {
      return true;
    }
    const token = bearerToken(this.authorizationOf(ctx));
    if (!token) {
      throw new UnauthorizedException(INVALID);
    }
    const accept = (principal: Principal): true => {
      setAuthenticated(ctx, { principal, token });
      callContext.principal = principal;
      callContext.token = token;
      return true;
    };
    const verified = this.refuseOnFailure(() => this.verifier.verify(token));
    if (!(verified instanceof Promise)) {
      return accept(verified);
    }
    return verified.then(accept, (err: unknown) => this.refuse(err));
  }

  /** `@Public()` on the handler or its class, read once per handler (metadata does not change). */
  private isPublic(ctx: ExecutionContext): boolean {
    const handler = ctx.getHandler();
    const controller = ctx.getClass();
    let byHandler = this.publicRoutes.get(controller);
    if (!byHandler) {
      byHandler = new WeakMap();
      this.publicRoutes.set(controller, byHandler);
    }
    let isPublic = byHandler.get(handler);
    if (isPublic === undefined) {
      isPublic = !!this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [handler, controller]);
      byHandler.set(handler, isPublic);
    }
    return isPublic;
  }

  /** The single Authorization header of a request or message; none when absent or repeated. */
  private authorizationOf(ctx: ExecutionContext): string | undefined {
    if (ctx.getType() === 'rpc') {
      const headers = ctx.switchToRpc().getContext<NatsContext>().getHeaders() as
        MsgHdrs | undefined;
      // NATS headers may repeat: more than one authorization header (in any case) is ambiguous.
      const single = headers?.values(Headers.authorization, Match.IgnoreCase).length === 1;
      return (single && headers?.get(Headers.authorization)) || undefined;
    }
    const value = ctx.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers[
      Headers.authorization
    ];
    return typeof value === 'string' ? value : undefined;
  }

  private refuseOnFailure<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      return this.refuse(err);
    }
  }

  private refuse(err: unknown): never {
    if (err instanceof HttpException && err.getStatus() !== 401) {
      throw err;
    }
    throw new UnauthorizedException(INVALID);
  }
}
