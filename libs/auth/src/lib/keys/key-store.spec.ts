import { Logger } from '@nestjs/common';
import { createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import type { Jwks } from '@baton/contracts';
import { keyPair } from '@baton/testing';
import { ALGORITHM_ALLOWLIST } from '../auth.constants';
import type { BatonAuthOptions } from '../baton-auth.options';
import { JwksSource } from './jwks.source';
import { KeyStore } from './key-store';
import { TokenRejected } from './token-header';

const REFETCH_INTERVAL_MS = 10_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');

const options: BatonAuthOptions = {
  service: 'test',
  natsServers: ['nats://127.0.0.1:4222'],
  issuer: 'baton-auth',
  audience: 'baton',
  algorithms: ALGORITHM_ALLOWLIST,
  requestTimeoutMs: 1000,
  accessTokenTtl: 900,
  jwksRefetchIntervalMs: REFETCH_INTERVAL_MS,
  verifiedTokenCacheSize: 0,
};

const rsa = keyPair('RS256');
const ec = keyPair('ES256');
const ed = keyPair('EdDSA');
/** A public key of its own (see keyPair in @baton/testing): its JWK export cannot deadlock. */
const publicOnly = (der: Buffer): KeyObject =>
  createPublicKey({ key: der, format: 'der', type: 'spki' });

type Jwk = Record<string, unknown>;
/** A JWK of `pair`'s public key marked `alg`, under `kid`, with `extra` over it. */
const jwkOf =
  (pair: { publicKey: KeyObject }, alg: string) =>
  (kid: string, extra: Jwk = {}): Jwk => ({
    ...pair.publicKey.export({ format: 'jwk' }),
    kid,
    alg,
    use: 'sig',
    ...extra,
  });
const rsaJwk = jwkOf(rsa, 'RS256');
const ecJwk = jwkOf(ec, 'ES256');
const edJwk = jwkOf(ed, 'EdDSA');

/** Only the header matters to the key store; payload and signature are placeholders. */
const tokenFor = (kid: string, alg = 'RS256'): string =>
  `${Buffer.from(JSON.stringify({ alg, typ: 'at+jwt', kid })).toString('base64url')}.e30.c2ln`;

/** A JWKS source that serves whatever the test says and counts how often it was asked. */
class FakeJwksSource extends JwksSource {
  calls = 0;
  private answers: Array<() => Promise<Jwks>> = [];

  constructor(private jwks: Jwk[] = []) {
    super();
  }

  serve(keys: Jwk[]): void {
    this.jwks = keys;
  }

  /** The next fetch waits for the returned release function (to hold a fetch in flight). */
  hold(): () => void {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    this.answers.push(async () => {
      await gate;
      return { keys: this.jwks } as unknown as Jwks;
    });
    return release;
  }

  failNext(message = 'auth is down'): void {
    this.answers.push(() => Promise.reject(new Error(message)));
  }

  fetchJwks(): Promise<Jwks> {
    this.calls++;
    const next = this.answers.shift();
    return next ? next() : Promise.resolve({ keys: this.jwks } as unknown as Jwks);
  }
}

async function rejection(promise: Promise<unknown>): Promise<TokenRejected> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(TokenRejected);
    return err as TokenRejected;
  }
  throw new Error('expected the key store to refuse the token, but it returned a key');
}

describe(KeyStore.name, () => {
  let source: FakeJwksSource;
  let sut: KeyStore;

  beforeEach(() => {
    jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    source = new FakeJwksSource([rsaJwk('rsa-1'), ecJwk('ec-1'), edJwk('ed-1')]);
    sut = new KeyStore(source, options);
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  describe('loading keys', () => {
    it('should hand out the RSA key for RS256, the EC key for ES256 and the Ed25519 key for EdDSA', async () => {
      await sut.refresh();

      const rsaKey = await sut.keyForToken(tokenFor('rsa-1', 'RS256'));
      const ecKey = await sut.keyForToken(tokenFor('ec-1', 'ES256'));
      const edKey = await sut.keyForToken(tokenFor('ed-1', 'EdDSA'));

      expect(rsaKey).toBeInstanceOf(KeyObject);
      expect(rsaKey.equals(rsa.publicKey)).toBe(true);
      expect(ecKey.equals(ec.publicKey)).toBe(true);
      expect(edKey.equals(ed.publicKey)).toBe(true);
      expect(sut.size).toBe(3);
    });

    it('should ignore a JWK that carries private key material (`d`)', async () => {
      const privateJwk = {
        ...rsa.privateKey.export({ format: 'jwk' }),
        kid: 'leaked',
        alg: 'RS256',
      };
      source.serve([privateJwk, rsaJwk('rsa-1')]);
      await sut.refresh();

      expect(sut.size).toBe(1);
      expect((await rejection(sut.keyForToken(tokenFor('leaked')))).message).toBe('unknown kid');
    });

    it.each([
      [
        'HS256 (a shared secret)',
        { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ', kid: 'off', alg: 'HS256' },
      ],
      ['RS512', rsaJwk('off', { alg: 'RS512' })],
      ['PS256', rsaJwk('off', { alg: 'PS256' })],
      ['none', rsaJwk('off', { alg: 'none' })],
      ['a missing alg', rsaJwk('off', { alg: undefined })],
      ['RS256 on an EC key', ecJwk('off', { alg: 'RS256' })],
      ['ES256 on an RSA key', rsaJwk('off', { alg: 'ES256' })],
      [
        'ES256 on a P-384 key',
        {
          ...publicOnly(
            generateKeyPairSync('ec', {
              namedCurve: 'P-384',
              publicKeyEncoding: { type: 'spki', format: 'der' },
              privateKeyEncoding: { type: 'pkcs8', format: 'der' },
            }).publicKey,
          ).export({
            format: 'jwk',
          }),
          kid: 'off',
          alg: 'ES256',
        },
      ],
      ['EdDSA on an EC key', ecJwk('off', { alg: 'EdDSA' })],
      ['ES256 on an Ed25519 key', edJwk('off', { alg: 'ES256' })],
      [
        'EdDSA on an Ed448 key',
        {
          ...publicOnly(
            generateKeyPairSync('ed448', {
              publicKeyEncoding: { type: 'spki', format: 'der' },
              privateKeyEncoding: { type: 'pkcs8', format: 'der' },
            }).publicKey,
          ).export({ format: 'jwk' }),
          kid: 'off',
          alg: 'EdDSA',
        },
      ],
    ])('should ignore a JWK whose algorithm is %s', async (_label, jwk) => {
      source.serve([jwk, rsaJwk('rsa-1')]);
      await sut.refresh();

      expect(sut.size).toBe(1);
      const alg = ['ES256', 'EdDSA'].includes(jwk['alg'] as string)
        ? (jwk['alg'] as string)
        : 'RS256';
      expect((await rejection(sut.keyForToken(tokenFor('off', alg)))).message).toBe('unknown kid');
    });

    it('should ignore a JWK without a string kid and a JWK that is not a valid key', async () => {
      source.serve([
        rsaJwk('rsa-1', { kid: 7 }),
        { kty: 'RSA', kid: 'broken', alg: 'RS256', n: 'AQAB' },
        rsaJwk('rsa-ok'),
      ]);
      await sut.refresh();

      expect(sut.size).toBe(1);
      await expect(sut.keyForToken(tokenFor('rsa-ok'))).resolves.toBeInstanceOf(KeyObject);
    });

    it('should drop every key when the JWKS has no `keys` array', async () => {
      await sut.refresh();
      expect(sut.size).toBe(3);

      sut.load({ keys: 'nope' } as unknown as Jwks);

      expect(sut.size).toBe(0);
    });

    it('should replace the key set on each fetch (a key removed from the JWKS is forgotten)', async () => {
      await sut.refresh();
      source.serve([ecJwk('ec-1')]);
      jest.advanceTimersByTime(REFETCH_INTERVAL_MS);
      await sut.refresh();

      expect(sut.size).toBe(1);
      expect((await rejection(sut.keyForToken(tokenFor('rsa-1')))).message).toBe('unknown kid');
    });

    it('should coalesce concurrent refreshes into one fetch', async () => {
      await Promise.all([sut.refresh(), sut.refresh(), sut.refresh()]);

      expect(source.calls).toBe(1);
    });

    it('should take keys from a new source after useSource', async () => {
      await sut.refresh();
      const other = new FakeJwksSource([rsaJwk('from-other-source')]);

      sut.useSource(other);
      await sut.refresh();

      expect(other.calls).toBe(1);
      await expect(sut.keyForToken(tokenFor('from-other-source'))).resolves.toBeInstanceOf(
        KeyObject,
      );
    });
  });

  describe('algorithm binding', () => {
    it('should refuse an ES256 header naming an RS256 key', async () => {
      await sut.refresh();

      expect((await rejection(sut.keyForToken(tokenFor('rsa-1', 'ES256')))).message).toBe(
        'algorithm does not match the key',
      );
    });

    it.each([
      ['EdDSA', 'rsa-1'],
      ['EdDSA', 'ec-1'],
      ['RS256', 'ed-1'],
      ['ES256', 'ed-1'],
    ])('should refuse an %s header naming the key %s', async (alg, kid) => {
      await sut.refresh();

      expect((await rejection(sut.keyForToken(tokenFor(kid, alg)))).message).toBe(
        'algorithm does not match the key',
      );
    });

    it('should refuse an RS256 header naming an ES256 key', async () => {
      await sut.refresh();

      expect((await rejection(sut.keyForToken(tokenFor('ec-1', 'RS256')))).message).toBe(
        'algorithm does not match the key',
      );
    });

    it('should refuse a token whose header is refused before asking the source for keys', async () => {
      const hostile = `${Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'rsa-1' })).toString('base64url')}.e30.c2ln`;

      expect((await rejection(sut.keyForToken(hostile))).message).toBe('algorithm not allowed');
      expect(source.calls).toBe(0);
    });
  });

  describe('unknown kid', () => {
    it('should fetch the JWKS for an unknown kid when no fetch has happened yet', async () => {
      await expect(sut.keyForToken(tokenFor('rsa-1'))).resolves.toBeInstanceOf(KeyObject);
      expect(source.calls).toBe(1);
    });

    it('should refetch at most once per interval however many unknown kids arrive', async () => {
      await sut.refresh();
      expect(source.calls).toBe(1);
      jest.advanceTimersByTime(REFETCH_INTERVAL_MS);

      for (let i = 0; i < 20; i++) {
        await rejection(sut.keyForToken(tokenFor(`unknown-${i}`)));
      }
      expect(source.calls).toBe(2);

      jest.advanceTimersByTime(REFETCH_INTERVAL_MS - 1);
      await rejection(sut.keyForToken(tokenFor('still-unknown')));
      expect(source.calls).toBe(2);

      jest.advanceTimersByTime(1);
      await rejection(sut.keyForToken(tokenFor('still-unknown')));
      expect(source.calls).toBe(3);
    });

    it('should learn a rotated key on the refetch an unknown kid triggers', async () => {
      await sut.refresh();
      source.serve([rsaJwk('rsa-1'), rsaJwk('rsa-2')]);
      jest.advanceTimersByTime(REFETCH_INTERVAL_MS);

      await expect(sut.keyForToken(tokenFor('rsa-2'))).resolves.toBeInstanceOf(KeyObject);
      expect(source.calls).toBe(2);
    });

    it('should not refetch for a kid it already knows', async () => {
      await sut.refresh();
      jest.advanceTimersByTime(REFETCH_INTERVAL_MS * 10);

      await sut.keyForToken(tokenFor('rsa-1'));

      expect(source.calls).toBe(1);
    });

    it('should retry after one second (not the full interval) when the last fetch failed', async () => {
      source.failNext();
      await sut.refresh();
      expect(sut.size).toBe(0);

      jest.advanceTimersByTime(999);
      await rejection(sut.keyForToken(tokenFor('rsa-1')));
      expect(source.calls).toBe(1);

      jest.advanceTimersByTime(1);
      await expect(sut.keyForToken(tokenFor('rsa-1'))).resolves.toBeInstanceOf(KeyObject);
      expect(source.calls).toBe(2);
    });

    it('should keep the keys it has when a fetch fails', async () => {
      await sut.refresh();
      source.failNext();
      jest.advanceTimersByTime(REFETCH_INTERVAL_MS);

      await sut.refresh();

      expect(sut.size).toBe(3);
      await expect(sut.keyForToken(tokenFor('rsa-1'))).resolves.toBeInstanceOf(KeyObject);
    });

    // A fetch is in flight at start-up (the bootstrap fetch) and on rotation (the one
    // `auth.keys.rotated` triggers): a token naming the kid being fetched must wait for it.
    it('should wait for an in-flight fetch rather than refuse the kid it is about to learn', async () => {
      await sut.refresh();
      source.serve([rsaJwk('rsa-1'), rsaJwk('rotated')]);
      const release = source.hold();
      jest.advanceTimersByTime(REFETCH_INTERVAL_MS);

      const first = sut.keyForToken(tokenFor('rotated'));
      const second = sut.keyForToken(tokenFor('rotated'));
      release();

      await expect(first).resolves.toBeInstanceOf(KeyObject);
      await expect(second).resolves.toBeInstanceOf(KeyObject);
      expect(source.calls).toBe(2);
    });
  });
});
