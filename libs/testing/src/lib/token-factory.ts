import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';

const b64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** The algorithms Baton signs with. */
export type TokenAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

/**
 * A fresh key pair for `alg`, as key objects of their own: on Node.js 20, exporting a JWK from the
 * objects generateKeyPairSync returns can deadlock (see SigningKeysService.generate in apps/auth).
 */
export function keyPair(alg: TokenAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', {
          modulusLength: 2048,
          publicKeyEncoding: { type: 'spki', format: 'der' },
          privateKeyEncoding: { type: 'pkcs8', format: 'der' },
        })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', {
            namedCurve: 'P-256',
            publicKeyEncoding: { type: 'spki', format: 'der' },
            privateKeyEncoding: { type: 'pkcs8', format: 'der' },
          })
        : generateKeyPairSync('ed25519', {
            publicKeyEncoding: { type: 'spki', format: 'der' },
            privateKeyEncoding: { type: 'pkcs8', format: 'der' },
          });
  return {
    privateKey: createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' }),
    publicKey: createPublicKey({ key: pair.publicKey, format: 'der', type: 'spki' }),
  };
}

export interface TokenParts {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
}

/**
 * Mints tokens for tests, good and hostile: its own key pair (published through `jwks()` when a
 * test wants a verifier to trust it), any header, any claims, any signature.
 */
export class TokenFactory {
  readonly kid = `test-${randomUUID().slice(0, 8)}`;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(
    readonly issuer = 'baton-auth',
    readonly audience = 'baton',
    readonly alg: TokenAlgorithm = 'RS256',
  ) {
    const pair = keyPair(alg);
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  jwks(): { keys: Record<string, unknown>[] } {
    return {
      keys: [
        { ...this.publicKey.export({ format: 'jwk' }), kid: this.kid, alg: this.alg, use: 'sig' },
      ],
    };
  }

  claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: this.issuer,
      aud: this.audience,
      sub: randomUUID(),
      jti: randomUUID(),
      sid: randomUUID(),
      roles: ['user'],
      iat: now,
      exp: now + 300,
      ...overrides,
    };
  }

  /** A token signed with this factory's key, by its algorithm. */
  sign({ header, claims }: TokenParts = {}): string {
    const h = { alg: this.alg, typ: 'at+jwt', kid: this.kid, ...header };
    const input = `${b64url(h)}.${b64url(claims ?? this.claims())}`;
    const signature = sign(
      this.alg === 'EdDSA' ? null : 'sha256',
      Buffer.from(input),
      this.alg === 'ES256' ? { key: this.privateKey, dsaEncoding: 'ieee-p1363' } : this.privateKey,
    ).toString('base64url');
    return `${input}.${signature}`;
  }

  /** An HMAC token keyed with the given bytes (algorithm-confusion attacks). */
  static hmac(
    alg: 'HS256' | 'HS384' | 'HS512',
    key: string | Buffer,
    header: Record<string, unknown>,
    claims: Record<string, unknown>,
  ): string {
    const h = { typ: 'at+jwt', ...header, alg };
    const input = `${b64url(h)}.${b64url(claims)}`;
    const digest = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
    return `${input}.${createHmac(digest, key).update(input).digest('base64url')}`;
  }

  /** An unsigned token (`alg: none` and friends). */
  static unsigned(header: Record<string, unknown>, claims: Record<string, unknown>): string {
    return `${b64url(header)}.${b64url(claims)}.`;
  }

  /** Swaps a token's payload for another, keeping the original signature. */
  static withPayload(token: string, claims: Record<string, unknown>): string {
    const [h, , s] = token.split('.');
    return `${h}.${b64url(claims)}.${s}`;
  }

  static decode(token: string): {
    header: Record<string, unknown>;
    claims: Record<string, unknown>;
  } {
    const [h, c] = token.split('.');
    return {
      header: JSON.parse(Buffer.from(h, 'base64url').toString()),
      claims: JSON.parse(Buffer.from(c, 'base64url').toString()),
    };
  }
}
