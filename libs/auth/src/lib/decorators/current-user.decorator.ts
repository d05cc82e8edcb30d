import { createParamDecorator, UnauthorizedException } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import type { Principal } from '../principal';
import { principalOf } from '../context/principal-slot';

/** The verified caller, on HTTP and NATS handlers alike. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => {
    const principal = principalOf(ctx);
    if (!principal) {
      throw new UnauthorizedException('Invalid or missing access token');
    }
    return principal;
  },
);
