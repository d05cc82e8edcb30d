import { ALGORITHM_ALLOWLIST } from '../auth.constants';
import type { AllowedAlgorithm } from '../auth.constants';

export class TokenRejected extends Error {
  override readonly name = 'TokenRejected';
}

export interface TokenHeader {
  alg: AllowedAlgorithm;
  kid: string;
  typ?: unknown;
}

const KID = /^[A-Za-z0-9_-]{1,128}$/;
/** Three base64url segments: one pass over the token, no split. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Headers that would make a verifier take a key or a rule from the token itself. */
const FORBIDDEN = ['jku', 'jwk', 'x5u', 'x5c', 'x5t', 'crit'];
export const MAX_TOKEN_LENGTH = 4096;

/**
 * Reads a compact JWS header strictly. Nothing here is trusted yet: it only picks the key, and
 * refuses tokens that ask for an algorithm off the allowlist or carry their own key material.
 */
export function readTokenHeader(token: string): TokenHeader {
  assertCompactJws(token);
  return parseHeaderSegment(token.slice(0, token.indexOf('.')));
}

/** A token's length and shape: three base64url segments and nothing else. */
export function assertCompactJws(token: string): void {
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new TokenRejected('token too long');
  }
  if (!COMPACT_JWS.test(token)) {
    throw new TokenRejected('not a compact JWS');
  }
}

/** The header segment of a compact JWS, decoded and checked (see readTokenHeader). */
export function parseHeaderSegment(segment: string): TokenHeader {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new TokenRejected('header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new TokenRejected('header is not an object');
  }
  const h = header as Record<string, unknown>;
  if (!ALGORITHM_ALLOWLIST.includes(h['alg'] as AllowedAlgorithm)) {
    throw new TokenRejected('algorithm not allowed');
  }
  if (typeof h['kid'] !== 'string' || !KID.test(h['kid'])) {
    throw new TokenRejected('missing or malformed kid');
  }
  if (FORBIDDEN.some((name) => name in h)) {
    throw new TokenRejected('unsupported header parameter');
  }
  return { alg: h['alg'] as AllowedAlgorithm, kid: h['kid'], typ: h['typ'] };
}
