export const IS_PUBLIC_KEY = 'baton:isPublic';
export const ROLES_KEY = 'baton:roles';
export const BATON_AUTH_OPTIONS = Symbol('BATON_AUTH_OPTIONS');
export const BATON_NATS_CLIENT = Symbol('BATON_NATS_CLIENT');

/** Verification accepts only these algorithms, whatever a token's header says. */
export const ALGORITHM_ALLOWLIST = ['RS256', 'ES256', 'EdDSA'] as const;
export type AllowedAlgorithm = (typeof ALGORITHM_ALLOWLIST)[number];

export interface JwsAlgorithm {
  /** node:crypto's digest for `sign()`/`verify()`; none for EdDSA, which hashes by itself. */
  digest: 'sha256' | null;
  /** The only key type the algorithm takes (`KeyObject.asymmetricKeyType`). */
  keyType: 'rsa' | 'ec' | 'ed25519';
  /** The only curve, for EC keys (`asymmetricKeyDetails.namedCurve`). */
  curve?: 'prime256v1';
  /** How the signature is laid out, where node:crypto's default is not JWS's (RFC 7518 §3.4). */
  dsaEncoding?: 'ieee-p1363';
}

/** How each allowed algorithm signs and verifies with node:crypto (RFC 7518, RFC 8037). */
export const JWS_ALGORITHMS: Record<AllowedAlgorithm, JwsAlgorithm> = {
  RS256: { digest: 'sha256', keyType: 'rsa' },
  ES256: { digest: 'sha256', keyType: 'ec', curve: 'prime256v1', dsaEncoding: 'ieee-p1363' },
  EdDSA: { digest: null, keyType: 'ed25519' },
};

/** Whether `key` is one `alg` can use: its type, and its curve for EC. */
export function keyFitsAlgorithm(
  key: { asymmetricKeyType?: string; asymmetricKeyDetails?: { namedCurve?: string } },
  alg: AllowedAlgorithm,
): boolean {
  const { keyType, curve } = JWS_ALGORITHMS[alg];
  return (
    key.asymmetricKeyType === keyType &&
    (curve === undefined || key.asymmetricKeyDetails?.namedCurve === curve)
  );
}

/** The JWT `typ` of access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** The most clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. */
export const MAX_CLOCK_SKEW_SECONDS = 30;
