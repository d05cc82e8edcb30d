import { Inject, Injectable } from '@nestjs/common';
import { verify as verifySignature } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ROLES } from '@baton/contracts';
import type { Role } from '@baton/contracts';
import { BATON_AUTH_OPTIONS, JWS_ALGORITHMS, MAX_CLOCK_SKEW_SECONDS } from '../auth.constants';
import type { BatonAuthOptions } from '../baton-auth.options';
import { VerifiedTokenCache } from '../guards/verified-token-cache';
import { KeyStore } from '../keys/key-store';
import {
  assertCompactJws,
  MAX_TOKEN_LENGTH,
  parseHeaderSegment,
  TokenRejected,
} from '../keys/token-header';
import type { TokenHeader } from '../keys/token-header';
import type { Principal } from '../principal';
import { RevocationStore } from '../revocation/revocation-store';

const ACCESS_TOKEN_TYP = /^(application\/)?at\+jwt$/i;
const MAX_REMEMBERED_HEADERS = 64;
const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isTime = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/**
 * Verifies Baton access tokens: the header read strictly (allowlisted algorithm, `kid`, no key
 * material of its own), the signature with the KeyObject the JWKS names (node:crypto, the algorithm
 * of the key, never of the token), then `typ`, `iss`, `aud`, `exp` (required), `nbf`, `iat` (at most
 * 30 s of skew), the claims Baton needs, and the revocation list. A verified token is remembered, so
 * the next request with it skips the signature; the revocation check is never skipped.
 *
 * This replaces passport-jwt: through passport and jsonwebtoken a cold RS256 verification took
 * about 1.8x the time of the signature check itself (see bench/results/verification.md).
 */
@Injectable()
export class AccessTokenVerifier {
  /**
   * Headers seen on verified tokens, by their segment: the few the auth service writes (one per
   * signing key) need not be decoded and checked again on every new token. Bounded.
   */
  private readonly headers = new Map<string, TokenHeader>();
  /**
   * Where a token's segments are decoded (signing input, then signature, then payload), so that a
   * cold verification allocates no buffer of its own: fewer allocations kept a cold RS256
   * verification closer to node:crypto's own cost. Used only within one synchronous check, so no
   * two verifications share it; a token is at most MAX_TOKEN_LENGTH characters, and each half holds
   * one decoded segment of it.
   */
  private readonly scratch = Buffer.allocUnsafeSlow(2 * MAX_TOKEN_LENGTH);

  constructor(
    private readonly keys: KeyStore,
    private readonly revocations: RevocationStore,
    private readonly verified: VerifiedTokenCache,
    @Inject(BATON_AUTH_OPTIONS) private readonly options: BatonAuthOptions,
  ) {
    // A token verified with a key auth no longer publishes is verified again, and refused.
    keys.onKeysRemoved(() => verified.clear());
  }

  /** How many token headers are remembered (bounded). */
  get rememberedHeaders(): number {
    return this.headers.size;
  }

  /** The principal of a token verified before, after the revocation check; undefined otherwise. */
  cached(token: string): Principal | undefined {
    const principal = this.verified.get(token);
    if (principal) {
      this.revocations.assertUsable(principal);
    }
    return principal;
  }

  /**
   * Verifies a token fully (or takes it from the cache) and returns its principal: at once when the
   * key is already held, once the JWKS has been fetched otherwise. Throws (or rejects) on failure.
   */
  verify(token: string): Principal | Promise<Principal> {
    const hit = this.cached(token);
    if (hit) {
      return hit;
    }
    assertCompactJws(token);
    const segment = token.slice(0, token.indexOf('.'));
    const header = this.headers.get(segment) ?? parseHeaderSegment(segment);
    const key = this.keys.known(header);
    if (key) {
      return this.accept(token, key, header, segment);
    }
    return this.keys
      .resolve(token)
      .then((found) => this.accept(token, found.key, found.header, segment));
  }

  private accept(token: string, key: KeyObject, header: TokenHeader, segment: string): Principal {
    const principal = this.check(token, key, header);
    // Only a header that came with a valid signature is remembered, so no caller can fill this.
    if (!this.headers.has(segment)) {
      if (this.headers.size >= MAX_REMEMBERED_HEADERS) {
        this.headers.clear();
      }
      this.headers.set(segment, header);
    }
    this.revocations.assertUsable(principal);
    this.verified.set(token, principal);
    return principal;
  }

  private check(token: string, key: KeyObject, header: TokenHeader): Principal {
    const first = token.indexOf('.');
    const last = token.lastIndexOf('.');
    const scratch = this.scratch;
    // assertCompactJws let only base64url characters and dots through: latin1 is exact
    const input = scratch.subarray(0, scratch.write(token.slice(0, last), 0, 'latin1'));
    const signature = scratch.subarray(
      MAX_TOKEN_LENGTH,
      MAX_TOKEN_LENGTH + scratch.write(token.slice(last + 1), MAX_TOKEN_LENGTH, 'base64url'),
    );
    let valid = false;
    try {
      const { digest, dsaEncoding } = JWS_ALGORITHMS[header.alg];
      valid = verifySignature(digest, input, dsaEncoding ? { key, dsaEncoding } : key, signature);
    } catch {
      valid = false;
    }
    if (!valid) {
      throw new TokenRejected('invalid signature');
    }
    if (typeof header.typ !== 'string' || !ACCESS_TOKEN_TYP.test(header.typ)) {
      throw new TokenRejected('not an access token');
    }
    let claims: unknown;
    try {
      const length = scratch.write(token.slice(first + 1, last), 0, 'base64url');
      claims = JSON.parse(scratch.toString('utf8', 0, length));
    } catch {
      throw new TokenRejected('payload is not JSON');
    }
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
      throw new TokenRejected('payload is not an object');
    }
    const { iss, aud, sub, jti, sid, iat, exp, nbf, roles } = claims as Record<string, unknown>;
    if (iss !== this.options.issuer) {
      throw new TokenRejected('wrong issuer');
    }
    if (
      aud !== this.options.audience &&
      !(Array.isArray(aud) && aud.includes(this.options.audience))
    ) {
      throw new TokenRejected('wrong audience');
    }
    if (!isString(sub) || !isString(jti) || !isString(sid) || !isTime(iat) || !isTime(exp)) {
      throw new TokenRejected('missing claim');
    }
    // Auth issues none longer; revocations are kept only that long, so a longer one would outlive
    // its revocation.
    if (exp - iat > this.options.accessTokenTtl) {
      throw new TokenRejected('lives longer than ACCESS_TOKEN_TTL');
    }
    const now = Date.now() / 1000;
    if (exp + MAX_CLOCK_SKEW_SECONDS <= now) {
      throw new TokenRejected('expired');
    }
    if (iat > now + MAX_CLOCK_SKEW_SECONDS) {
      throw new TokenRejected('issued in the future');
    }
    if (nbf !== undefined && (!isTime(nbf) || nbf > now + MAX_CLOCK_SKEW_SECONDS)) {
      throw new TokenRejected('not yet valid');
    }
    if (!Array.isArray(roles) || !roles.every((r) => ROLES.includes(r as Role))) {
      throw new TokenRejected('malformed roles');
    }
    return { sub, jti, sid, iat, exp, roles: roles as Role[] };
  }
}
