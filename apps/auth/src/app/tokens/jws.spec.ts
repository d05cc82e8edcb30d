import { randomUUID } from 'node:crypto';
import * as jsonwebtoken from 'jsonwebtoken';
import {
  AccessTokenVerifier,
  ALGORITHM_ALLOWLIST,
  KeyStore,
  RevocationStore,
  VerifiedTokenCache,
} from '@baton/auth';
import type { BatonAuthOptions } from '@baton/auth';
import type { Jwks } from '@baton/contracts';
import { TokenFactory } from '@baton/testing';
import type { SigningKey } from '../keys/signing-keys.service';
import { signCompactJws } from './jws';

const options: BatonAuthOptions = {
  service: 'auth',
  natsServers: [],
  issuer: 'baton-auth',
  audience: 'baton',
  algorithms: ALGORITHM_ALLOWLIST,
  requestTimeoutMs: 1000,
  accessTokenTtl: 900,
  jwksRefetchIntervalMs: 10_000,
  verifiedTokenCacheSize: 0,
};

async function verifierFor(jwks: Jwks): Promise<AccessTokenVerifier> {
  const keys = new KeyStore({ fetchJwks: () => Promise.resolve(jwks) }, options);
  await keys.refresh();
  const revocations = new RevocationStore(options);
  (revocations as unknown as { current: boolean }).current = true;
  return new AccessTokenVerifier(keys, revocations, new VerifiedTokenCache(options), options);
}

describe(signCompactJws.name, () => {
  it.each(ALGORITHM_ALLOWLIST)('should sign %s tokens that libs/auth verifies', async (alg) => {
    // A key pair of the algorithm, published as auth would publish it.
    const pair = new TokenFactory('baton-auth', 'baton', alg);
    const key: SigningKey = { kid: pair.kid, alg, privateKey: pair.privateKey };
    const jwks = pair.jwks() as unknown as Jwks;
    const iat = Math.floor(Date.now() / 1000);
    const claims = {
      iss: 'baton-auth',
      aud: 'baton',
      sub: randomUUID(),
      jti: randomUUID(),
      iat,
      exp: iat + 60,
      roles: ['user'],
      sid: randomUUID(),
    };

    const token = signCompactJws('at+jwt', claims, key);

    const [header] = token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({
      alg,
      typ: 'at+jwt',
      kid: key.kid,
    });
    const verifier = await verifierFor(jwks);
    expect(await verifier.verify(token)).toMatchObject({
      sub: claims.sub,
      roles: ['user'],
    });
  });

  it.each(['RS256', 'ES256'] as const)(
    'should sign %s tokens that jsonwebtoken, written by others, verifies too',
    (alg) => {
      const pair = new TokenFactory('baton-auth', 'baton', alg);
      const token = signCompactJws(
        'at+jwt',
        { sub: 'someone', iat: 1, exp: 4_102_444_800 },
        { kid: pair.kid, alg, privateKey: pair.privateKey },
      );

      expect(jsonwebtoken.verify(token, pair.publicKey, { algorithms: [alg] })).toMatchObject({
        sub: 'someone',
      });
    },
  );
});
