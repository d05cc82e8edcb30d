import type { Role } from '@baton/contracts';

/** The verified caller of a request: what `@CurrentUser()` returns. */
export interface Principal {
  /** User id, or `svc:<name>` for a service. */
  sub: string;
  roles: Role[];
  /** The login session (refresh family) the token belongs to. */
  sid: string;
  jti: string;
  /** Issued-at and expiry, seconds since the epoch. */
  iat: number;
  exp: number;
}

/** Claims of a Baton access token. */
export interface AccessTokenClaims extends Principal {
  iss: string;
  aud: string | string[];
}
