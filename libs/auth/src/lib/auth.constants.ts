export const IS_PUBLIC_KEY = 'baton:isPublic';
export const ROLES_KEY = 'baton:roles';
export const BATON_AUTH_OPTIONS = Symbol('BATON_AUTH_OPTIONS');
export const BATON_NATS_CLIENT = Symbol('BATON_NATS_CLIENT');

/** Verification accepts only these algorithms, whatever a token's header says. */
export const ALGORITHM_ALLOWLIST = ['RS256', 'ES256'] as const;
export type AllowedAlgorithm = (typeof ALGORITHM_ALLOWLIST)[number];

/** The JWT `typ` of access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** The most clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. */
export const MAX_CLOCK_SKEW_SECONDS = 30;
