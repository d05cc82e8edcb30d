import { ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@baton/contracts';
import { IS_PUBLIC_KEY, ROLES_KEY } from '../auth.constants';
import { principalOf } from '../context/principal-slot';

/** Enforces `@Roles(...)`: the caller needs at least one of the listed roles. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    const targets = [ctx.getHandler(), ctx.getClass()];
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (!roles?.length || this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) {
      return true;
    }
    const principal = principalOf(ctx);
    if (!principal) {
      throw new UnauthorizedException('Invalid or missing access token');
    }
    if (!roles.some((role) => principal.roles.includes(role))) {
      throw new ForbiddenException('You do not have the role this needs');
    }
    return true;
  }
}
