import { BadRequestException, createParamDecorator } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * For a route that takes no body: every field of one is unknown, so it is refused with 400 as on
 * the routes whose DTOs the validation pipe checks. No body, or `{}`, passes.
 */
export const NoBody = createParamDecorator((_data: unknown, ctx: ExecutionContext): void => {
  const body = ctx.switchToHttp().getRequest<FastifyRequest>().body;
  if (body === undefined || body === null) {
    return;
  }
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestException('This route takes no body');
  }
  const field = Object.keys(body)[0];
  if (field !== undefined) {
    throw new BadRequestException(`property ${field} should not exist`);
  }
});
