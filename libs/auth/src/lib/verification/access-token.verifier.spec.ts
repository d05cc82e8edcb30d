import type { Jwks } from '@baton/contracts';
import { TokenFactory } from '@baton/testing';
import { ALGORITHM_ALLOWLIST } from '../auth.constants';
import type { BatonAuthOptions } from '../baton-auth.options';
import { VerifiedTokenCache } from '../guards/verified-token-cache';
import { KeyStore } from '../keys/key-store';
import { RevocationStore } from '../revocation/revocation-store';
import { AccessTokenVerifier } from './access-token.verifier';

/*
 * The verifier's fast path: what it remembers (verified tokens, the headers of verified tokens) and
 * that remembering never lets a token skip a check. The whole list of refused tokens runs against
 * the guard on HTTP and NATS in baton-auth.module.spec.ts.
 */

const factory = new TokenFactory();
const options = (cacheSize: number): BatonAuthOptions => ({
  service: 'probe',
  natsServers: [],
  issuer: 'baton-auth',
  audience: 'baton',
  algorithms: ALGORITHM_ALLOWLIST,
  requestTimeoutMs: 1000,
  accessTokenTtl: 900,
  jwksRefetchIntervalMs: 10_000,
  verifiedTokenCacheSize: cacheSize,
});

async function verifierWith(cacheSize: number, signer = factory) {
  const opts = options(cacheSize);
  let jwks = signer.jwks() as unknown as Jwks;
  const keys = new KeyStore({ fetchJwks: () => Promise.resolve(jwks) }, opts);
  await keys.refresh();
  const revocations = new RevocationStore(opts);
  // a copy known to be complete (and empty), without a bucket to watch
  (revocations as unknown as { current: boolean }).current = true;
  const cache = new VerifiedTokenCache(opts);
  /** Auth publishes `next` from now on, and the verifier's key store has fetched it. */
  const publish = async (next: Jwks) => {
    jwks = next;
    await keys.refresh();
  };
  return {
    sut: new AccessTokenVerifier(keys, revocations, cache, opts),
    cache,
    revocations,
    publish,
  };
}

/** What verifying `token` threw or rejected with (undefined when it verified). */
const refusal = async (verifier: AccessTokenVerifier, token: string): Promise<unknown> => {
  try {
    await verifier.verify(token);
    return undefined;
  } catch (err) {
    return err;
  }
};

describe(`${AccessTokenVerifier.name} on each allowed algorithm`, () => {
  it.each(ALGORITHM_ALLOWLIST)(
    'should verify a %s token, and refuse it with a signature of the same length that is not its own',
    async (alg) => {
      const signer = new TokenFactory('baton-auth', 'baton', alg);
      const { sut } = await verifierWith(0, signer);
      const good = signer.sign();
      const other = signer.sign({ claims: signer.claims({ sub: 'someone-else' }) });
      const spliced = `${good.slice(0, good.lastIndexOf('.'))}${other.slice(other.lastIndexOf('.'))}`;

      expect(TokenFactory.decode(good).header).toMatchObject({ alg });
      expect(await sut.verify(good)).toMatchObject({
        sub: TokenFactory.decode(good).claims['sub'],
      });
      expect(await refusal(sut, spliced)).toMatchObject({ message: 'invalid signature' });
    },
  );
});

describe(AccessTokenVerifier.name, () => {
  it("should remember a verified token's header, and only after its signature verified", async () => {
    const { sut } = await verifierWith(0);
    const good = factory.sign();
    const forged = `${good.slice(0, good.lastIndexOf('.'))}.${'A'.repeat(342)}`;

    expect(await refusal(sut, forged)).toBeInstanceOf(Error);
    expect(sut.rememberedHeaders).toBe(0);

    expect(await sut.verify(good)).toMatchObject({ sub: TokenFactory.decode(good).claims['sub'] });
    expect(sut.rememberedHeaders).toBe(1);
  });

  it('should still check every token whole whose header it remembers', async () => {
    const { sut } = await verifierWith(0);
    const good = factory.sign();
    await sut.verify(good);
    const header = good.slice(0, good.indexOf('.'));

    // same header: a tampered payload, a stripped signature, junk after the token
    const tampered = TokenFactory.withPayload(good, factory.claims({ roles: ['admin'] }));
    const expired = factory.sign({ claims: factory.claims({ exp: 1000, iat: 900 }) });
    for (const token of [tampered, `${header}.e30.`, `${good} junk`, `${good}.x`, expired]) {
      expect(await refusal(sut, token)).toBeInstanceOf(Error);
    }
    // another header from the same key: its own typ is checked
    expect(await refusal(sut, factory.sign({ header: { typ: 'JWT' } }))).toBeInstanceOf(Error);
    expect(sut.rememberedHeaders).toBe(1);
  });

  it('should read each token whole and afresh, whatever the token before it was', async () => {
    const { sut } = await verifierWith(0);
    const long = factory.sign({
      claims: factory.claims({ sub: `user-${'x'.repeat(600)}`, roles: ['user', 'admin'] }),
    });
    const short = factory.sign({ claims: factory.claims({ sub: 'u' }) });

    expect(await sut.verify(long)).toMatchObject({ sub: `user-${'x'.repeat(600)}` });
    // a shorter payload after a longer one: nothing of the longer one is read back
    expect(await sut.verify(short)).toEqual(expect.objectContaining({ sub: 'u', roles: ['user'] }));
    // a valid token's signature cut short, or its signing input cut short, right after it verified
    expect(await sut.verify(long)).toBeDefined();
    expect(await refusal(sut, long.slice(0, -4))).toMatchObject({ message: 'invalid signature' });
    const [h, p, s] = long.split('.');
    expect(await refusal(sut, `${h}.${p.slice(0, -8)}.${s}`)).toMatchObject({
      message: 'invalid signature',
    });
  });

  it('should keep the remembered headers bounded', async () => {
    const { sut } = await verifierWith(0);

    for (let n = 0; n < 150; n++) {
      await sut.verify(factory.sign({ header: { n } }));
    }

    expect(sut.rememberedHeaders).toBeGreaterThan(0);
    expect(sut.rememberedHeaders).toBeLessThanOrEqual(64);
  });

  it('should serve a verified token from the cache and still refuse it once revoked', async () => {
    const { sut, cache, revocations } = await verifierWith(100);
    const token = factory.sign();
    const principal = await sut.verify(token);

    expect(cache.size).toBe(1);
    expect(sut.cached(token)).toEqual(principal);

    const { jti } = TokenFactory.decode(token).claims as { jti: string };
    jest.spyOn(revocations, 'isRevoked').mockImplementation((revoked) => revoked === jti);
    expect(await refusal(sut, token)).toMatchObject({ status: 401 });
    expect(cache.size).toBe(1);
  });

  it('should refuse a token that claims to live longer than ACCESS_TOKEN_TTL, and take one that lives exactly that long', async () => {
    const { sut } = await verifierWith(0);
    const iat = Math.floor(Date.now() / 1000);

    expect(
      await sut.verify(factory.sign({ claims: factory.claims({ iat, exp: iat + 900 }) })),
    ).toBeDefined();
    expect(
      await refusal(sut, factory.sign({ claims: factory.claims({ iat, exp: iat + 901 }) })),
    ).toMatchObject({ message: 'lives longer than ACCESS_TOKEN_TTL' });
  });

  it('should forget the tokens it verified once their key is no longer published, and refuse them', async () => {
    const { sut, cache, publish } = await verifierWith(100);
    const token = factory.sign();
    await sut.verify(token);
    expect(cache.size).toBe(1);

    const next = new TokenFactory();
    await publish(next.jwks() as unknown as Jwks);

    expect(cache.size).toBe(0);
    expect(await refusal(sut, token)).toMatchObject({ message: 'unknown kid' });
    expect(await sut.verify(next.sign())).toBeDefined();
  });

  it('should keep the tokens it verified when a fetch only adds a key', async () => {
    const { sut, cache, publish } = await verifierWith(100);
    const token = factory.sign();
    await sut.verify(token);

    const next = new TokenFactory();
    await publish({ keys: [...factory.jwks().keys, ...next.jwks().keys] } as unknown as Jwks);

    expect(cache.size).toBe(1);
  });

  it('should verify every time, hashing nothing, when the cache is off', async () => {
    const { sut, cache } = await verifierWith(0);
    const token = factory.sign();

    await sut.verify(token);
    await sut.verify(token);

    expect(cache.size).toBe(0);
    expect(sut.cached(token)).toBeUndefined();
  });
});
