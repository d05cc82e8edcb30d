import {
  ForbiddenException,
  HttpException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { NatsContext } from '@nestjs/microservices';
import { Match } from 'nats';
import type { MsgHdrs } from 'nats';
import { Headers } from '@baton/contracts';
import type { Role } from '@baton/contracts';
import { IS_PUBLIC_KEY, ROLES_KEY } from '../auth.constants';
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

/** What a handler asks of its caller, from its metadata and its class's. */
interface Policy {
  /** `@Public()`: no token needed. */
  isPublic: boolean;
  /** `@Roles(...)`: the caller needs one of these; none listed means any verified caller. */
  roles?: readonly Role[];
}

/**
 * The one guard for HTTP and NATS: secure by default, `@Public()` opts out, `@Roles(...)` narrows.
 * Reads the bearer token from the Authorization header or the `authorization` message header,
 * hands it to the verifier, and refuses on any failure with the same 401 (503 while the revocation
 * list is not current); a verified caller without one of the handler's roles gets 403. Roles are
 * checked here rather than by a second global guard: Nest awaits each guard in turn, on every hop.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  private readonly policies = new WeakMap<object, WeakMap<Function, Policy>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    // Bound first, so that a refused request is logged with its request id too.
    const callContext = callContextOf(ctx);
    bindCallContextOf(callContext);
    const policy = this.policyOf(ctx);
    if (policy.isPublic) {
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
      if (policy.roles && !policy.roles.some((role) => principal.roles.includes(role))) {
        throw new ForbiddenException('You do not have the role this needs');
      }
      return true;
    };
    const verified = this.refuseOnFailure(() => this.verifier.verify(token));
    if (!(verified instanceof Promise)) {
      return accept(verified);
    }
    return verified.then(accept, (err: unknown) => this.refuse(err));
  }

  /** The handler's policy, read once per handler (metadata does not change). */
  private policyOf(ctx: ExecutionContext): Policy {
    const handler = ctx.getHandler();
    const controller = ctx.getClass();
    let byHandler = this.policies.get(controller);
    if (!byHandler) {
      byHandler = new WeakMap();
      this.policies.set(controller, byHandler);
    }
    let policy = byHandler.get(handler);
    if (!policy) {
      const targets = [handler, controller];
      const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
      policy = {
        isPublic: !!this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets),
        roles: roles?.length ? [...roles] : undefined,
      };
      byHandler.set(handler, policy);
    }
    return policy;
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
