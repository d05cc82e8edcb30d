import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import { ErrorBodySchema } from './views.schema';

/** The name of the bearer scheme in the document. */
export const BEARER = 'bearer';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid body, parameter or query (unknown fields included)',
  401: 'Missing, invalid, expired or revoked access token',
  403: 'The caller lacks the role',
  404: 'Not found',
  409: 'Conflict',
  429: 'Too many attempts; see Retry-After',
  503: 'A service did not answer in time',
};

/** An error answer: a status, or a status and what it means on this route. */
export type ApiError = number | [status: number, description: string];

/** Documents error answers, each with the `{statusCode, error, message}` body. */
export function ApiErrors(...errors: ApiError[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...errors.map((e) => {
      const [status, description] = Array.isArray(e) ? e : [e, DESCRIPTIONS[e] ?? 'Error'];
      return ApiResponse({ status, description, type: ErrorBodySchema });
    }),
  );
}

/** A route for any signed-in caller: the bearer scheme, and 401 without a valid token. */
export function ApiSignedIn(): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiBearerAuth(BEARER), ApiErrors(401));
}

/** A route for admins: the bearer scheme, 401 without a valid token and 403 without the role. */
export function ApiAdmin(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiBearerAuth(BEARER),
    ApiErrors(401, [403, 'The caller is not an admin']),
  );
}
