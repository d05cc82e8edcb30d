import { SetMetadata } from '@nestjs/common';
import type { Role } from '@baton/contracts';
import { ROLES_KEY } from '../auth.constants';

/** The caller needs at least one of these roles (403 otherwise). */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROLES_KEY, roles);
