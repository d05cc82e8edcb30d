import { HttpException, Injectable, UnauthorizedException } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { NatsContext } from '@nestjs/microservices';
import { Match } from 'nats';
import type { MsgHdrs } from 'nats';
import { Headers } from '@baton/contracts';
import { IS_PUBLIC_KEY, JWT_STRATEGY } from '../auth.constants';
import { setAuthenticated } from '../context/principal-slot';
import { RevocationStore } from '../revocation/revocation-store';
import { VerifiedTokenCache } from './verified-token-cache';
import type { Principal } from '../principal';

interface Carrier {
  headers: { authorization?: string };
}

const BEARER = /^Bearer ([A-Za-z0-9._-]+)$/i;

/**
 * The one guard for HTTP and NATS: secure by default, `@Public()` opts out. Reads the bearer token
 * from the Authorization header or the `authorization` message header and hands it to passport.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  constructor(
    private readonly reflector: Reflector,
    private readonly verified: VerifiedTokenCache,
    private readonly revocations: RevocationStore,
  ) {
    super();
  }

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (isPublic) {
      return true;
    }
    // Fast path: a token verified before is not verified again, but revocation is always checked.
    const token = BEARER.exec(this.getRequest(ctx).headers.authorization ?? '')?.[1];
    const principal = token ? this.verified.get(token) : undefined;
    if (token && principal) {
      this.revocations.assertUsable(principal);
      setAuthenticated(ctx, { principal, token });
      return true;
    }
    await super.canActivate(ctx);
    return true;
  }

  override getRequest(ctx: ExecutionContext): Carrier {
    if (ctx.getType() === 'rpc') {
      const headers = ctx.switchToRpc().getContext<NatsContext>().getHeaders() as
        MsgHdrs | undefined;
      // NATS headers may repeat: more than one authorization header (in any case) is ambiguous.
      const single = headers?.values(Headers.authorization, Match.IgnoreCase).length === 1;
      const authorization = (single && headers?.get(Headers.authorization)) || undefined;
      return { headers: { authorization } };
    }
    return ctx.switchToHttp().getRequest<Carrier>();
  }

  override handleRequest<T = Principal>(
    err: unknown,
    user: unknown,
    _info: unknown,
    ctx: ExecutionContext,
  ): T {
    if (err instanceof HttpException && err.getStatus() !== 401) {
      throw err;
    }
    if (err || !user) {
      throw new UnauthorizedException('Invalid or missing access token');
    }
    const token = this.tokenOf(ctx);
    setAuthenticated(ctx, { principal: user as Principal, token });
    this.verified.set(token, user as Principal);
    return user as T;
  }

  private tokenOf(ctx: ExecutionContext): string {
    const header = this.getRequest(ctx).headers.authorization ?? '';
    const match = BEARER.exec(header);
    if (!match) {
      throw new UnauthorizedException('Invalid or missing access token');
    }
    return match[1];
  }
}
