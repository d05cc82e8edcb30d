import { Controller, Get } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MessagePattern } from '@nestjs/microservices';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { connect, headers as natsHeaders, JSONCodec } from 'nats';
import type { Msg, NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { Events, REVOCATION_BUCKET, Subjects } from '@baton/contracts';
import { startNatsServer, TokenFactory } from '@baton/testing';
import type { NatsServerHandle } from '@baton/testing';
import { BatonAuthModule } from './baton-auth.module';
import { BatonClient } from './client/baton-client';
import { CurrentUser } from './decorators/current-user.decorator';
import { Public } from './decorators/public.decorator';
import { Roles } from './decorators/roles.decorator';
import { RpcErrorFilter } from './errors/rpc-error.filter';
import { KeyStore } from './keys/key-store';
import { BatonNatsServer } from './nats-microservice';
import { strictValidationPipe } from './validation/strict-validation.pipe';
import type { Principal } from './principal';
import { RevocationStore } from './revocation/revocation-store';

/*
 * The whole of @baton/auth as a service uses it: BatonAuthModule.forRoot on a real nats-server
 * (JWKS fetched over NATS from a stand-in for auth, revocations in the real JetStream bucket),
 * driven once over HTTP (Fastify, inject) and once over NATS (a Nest microservice), with the
 * same tokens and the same expectations.
 */

const jc = JSONCodec<unknown>();
const now = (): number => Math.floor(Date.now() / 1000);
const bearer = (token: string): string => `Bearer ${token}`;
const GENERIC_401 = 'Invalid or missing access token';

// ---------------------------------------------------------------------------------------------
// The service under test: one controller per behaviour, reachable over HTTP and NATS alike.

@Controller('probe')
class ProbeController {
  constructor(private readonly client: BatonClient) {}

  @Get('protected')
  @MessagePattern('probe.protected')
  protectedRoute(): { ok: true } {
    return { ok: true };
  }

  @Public()
  @Get('public')
  @MessagePattern('probe.public')
  publicRoute(): { public: true } {
    return { public: true };
  }

  @Roles('admin')
  @Get('admin')
  @MessagePattern('probe.admin')
  adminRoute(): { admin: true } {
    return { admin: true };
  }

  @Get('me')
  @MessagePattern('probe.me')
  me(@CurrentUser() user: Principal): Principal {
    return user;
  }

  /** Calls another service on the caller's behalf, passing nothing explicitly. */
  @Get('relay')
  @MessagePattern('probe.relay')
  relay(): Promise<unknown> {
    return this.client.send('downstream.echo', { from: 'probe' });
  }

  /** The same, for an anonymous caller (this service has no token of its own: no SERVICE_SECRET). */
  @Public()
  @Get('public-relay')
  @MessagePattern('probe.public-relay')
  publicRelay(): Promise<unknown> {
    return this.client.send('downstream.echo', { from: 'probe' });
  }
}

@Public()
@Controller('open')
class OpenController {
  @Get('ping')
  @MessagePattern('open.ping')
  ping(): { pong: true } {
    return { pong: true };
  }
}

// ---------------------------------------------------------------------------------------------
// The two ways in.

interface Answer {
  status: number;
  body: unknown;
}

interface Service {
  app: INestApplicationContext;
  /** Calls a route (`probe/protected`) with this Authorization value (none when undefined). */
  call(
    route: string,
    authorization?: string,
    extraHeaders?: Record<string, string>,
  ): Promise<Answer>;
  close(): Promise<void>;
}

/**
 * `authNatsUrl` is where BatonAuthModule connects (JWKS, revocations, BatonClient); `transportUrl`
 * is where a NATS microservice listens and `nc()` sends requests. They are the same server except
 * when a test needs to cut the revocation watch off while requests still arrive.
 */
type Boot = (
  authNatsUrl: string,
  nc: () => NatsConnection,
  transportUrl?: string,
) => Promise<Service>;

const authModule = (natsUrl: string) =>
  Test.createTestingModule({
    imports: [
      BatonAuthModule.forRoot({
        service: 'probe',
        env: { NATS_URL: natsUrl, NATS_REQUEST_TIMEOUT_MS: '2000' },
      }),
    ],
    controllers: [ProbeController, OpenController],
  }).compile();

const bootHttp: Boot = async (natsUrl) => {
  const moduleRef = await authModule(natsUrl);
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    async call(route, authorization, extraHeaders = {}) {
      const headers: Record<string, string> = { ...extraHeaders };
      if (authorization !== undefined) {
        headers['authorization'] = authorization;
      }
      const res = await app.inject({ method: 'GET', url: `/${route}`, headers });
      return { status: res.statusCode, body: res.json<unknown>() };
    },
    close: () => app.close(),
  };
};

const bootNats: Boot = async (natsUrl, nc, transportUrl = natsUrl) => {
  const moduleRef = await authModule(natsUrl);
  const app = moduleRef.createNestMicroservice<MicroserviceOptions>({
    strategy: new BatonNatsServer({ servers: [transportUrl], queue: 'baton.probe' }),
    logger: false,
  });
  app.useGlobalFilters(new RpcErrorFilter());
  app.useGlobalPipes(strictValidationPipe());
  await app.listen();
  await app.unwrap<NatsConnection>().flush();
  return {
    app,
    async call(route, authorization, extraHeaders = {}) {
      const subject = route.replace('/', '.');
      const h = natsHeaders();
      if (authorization !== undefined) {
        h.set('authorization', authorization);
      }
      for (const [name, value] of Object.entries(extraHeaders)) {
        h.set(name, value);
      }
      const msg = await nc().request(
        subject,
        jc.encode({ pattern: subject, data: {}, id: randomUUID() }),
        {
          headers: h,
          timeout: 4000,
        },
      );
      const reply = jc.decode(msg.data) as { err?: { statusCode: number }; response?: unknown };
      return reply.err
        ? { status: reply.err.statusCode, body: reply.err }
        : { status: 200, body: reply.response };
    },
    close: () => app.close(),
  };
};

// ---------------------------------------------------------------------------------------------
// Tokens.

const trusted = new TokenFactory();
const attacker = new TokenFactory();
const spkiPem = trusted.publicKey.export({ type: 'spki', format: 'pem' });
const pkcs1Pem = trusted.publicKey.export({ type: 'pkcs1', format: 'pem' });

const withoutClaim = (name: string): Record<string, unknown> => {
  const claims = trusted.claims();
  delete claims[name];
  return claims;
};

/** Authorization values every route but the public ones must refuse with 401, built at call time. */
const REFUSED: Array<[string, () => string | undefined]> = [
  ['no Authorization header', () => undefined],
  ['an empty Authorization header', () => ''],
  ['"Bearer" with no token', () => 'Bearer '],
  ['a Basic credential', () => 'Basic YWxpY2U6cGFzc3dvcmQ='],
  ['a token without the Bearer scheme', () => trusted.sign()],
  ['a bearer value that is not a JWT', () => 'Bearer not-a-jwt'],
  ['a token with two segments', () => bearer(trusted.sign().split('.').slice(0, 2).join('.'))],
  ['a token with four segments', () => bearer(`${trusted.sign()}.e30`)],
  ['a token followed by junk', () => `${bearer(trusted.sign())} junk`],
  [
    'a token whose signature was cut off',
    () => bearer(trusted.sign().replace(/\.[^.]+$/, '.AAAA')),
  ],
  [
    'an expired token (beyond 30 s of skew)',
    () => bearer(trusted.sign({ claims: trusted.claims({ iat: now() - 400, exp: now() - 45 }) })),
  ],
  [
    'a token that lives longer than ACCESS_TOKEN_TTL (a year)',
    () => bearer(trusted.sign({ claims: trusted.claims({ exp: now() + 365 * 86_400 }) })),
  ],
  [
    'a token not yet valid (nbf beyond 30 s)',
    () => bearer(trusted.sign({ claims: trusted.claims({ nbf: now() + 60 }) })),
  ],
  [
    'a token issued in the future (iat beyond 30 s)',
    () => bearer(trusted.sign({ claims: trusted.claims({ iat: now() + 60 }) })),
  ],
  [
    'a token from another issuer',
    () => bearer(trusted.sign({ claims: trusted.claims({ iss: 'https://evil.example' }) })),
  ],
  [
    'a token for another audience',
    () => bearer(trusted.sign({ claims: trusted.claims({ aud: 'billing' }) })),
  ],
  ['a token with typ JWT', () => bearer(trusted.sign({ header: { typ: 'JWT' } }))],
  ['a token without typ', () => bearer(trusted.sign({ header: { typ: undefined } }))],
  ['a refresh-token typ', () => bearer(trusted.sign({ header: { typ: 'rt+jwt' } }))],
  ['a token without exp', () => bearer(trusted.sign({ claims: withoutClaim('exp') }))],
  ['a token without iat', () => bearer(trusted.sign({ claims: withoutClaim('iat') }))],
  ['a token without sub', () => bearer(trusted.sign({ claims: withoutClaim('sub') }))],
  ['a token without jti', () => bearer(trusted.sign({ claims: withoutClaim('jti') }))],
  ['a token without sid', () => bearer(trusted.sign({ claims: withoutClaim('sid') }))],
  [
    'a token with a string exp',
    () => bearer(trusted.sign({ claims: trusted.claims({ exp: String(now() + 300) }) })),
  ],
  [
    'a token with an unknown role',
    () => bearer(trusted.sign({ claims: trusted.claims({ roles: ['root'] }) })),
  ],
  [
    'a token with roles as a string',
    () => bearer(trusted.sign({ claims: trusted.claims({ roles: 'admin' }) })),
  ],
  [
    'alg "none" (no signature)',
    () =>
      bearer(
        TokenFactory.unsigned({ alg: 'none', typ: 'at+jwt', kid: trusted.kid }, trusted.claims()),
      ),
  ],
  [
    'alg "None"',
    () =>
      bearer(
        TokenFactory.unsigned({ alg: 'None', typ: 'at+jwt', kid: trusted.kid }, trusted.claims()) +
          'AAAA',
      ),
  ],
  [
    'alg "NONE"',
    () =>
      bearer(
        TokenFactory.unsigned({ alg: 'NONE', typ: 'at+jwt', kid: trusted.kid }, trusted.claims()) +
          'AAAA',
      ),
  ],
  [
    'alg "nOnE"',
    () =>
      bearer(
        TokenFactory.unsigned({ alg: 'nOnE', typ: 'at+jwt', kid: trusted.kid }, trusted.claims()) +
          'AAAA',
      ),
  ],
  [
    'alg "none" without kid',
    () => bearer(TokenFactory.unsigned({ alg: 'none', typ: 'at+jwt' }, trusted.claims()) + 'AAAA'),
  ],
  [
    'HS256 keyed with the public key (SPKI PEM)',
    () => bearer(TokenFactory.hmac('HS256', spkiPem, { kid: trusted.kid }, trusted.claims())),
  ],
  [
    'HS256 keyed with the public key (PKCS#1 PEM)',
    () => bearer(TokenFactory.hmac('HS256', pkcs1Pem, { kid: trusted.kid }, trusted.claims())),
  ],
  [
    'HS512 keyed with the public key',
    () => bearer(TokenFactory.hmac('HS512', spkiPem, { kid: trusted.kid }, trusted.claims())),
  ],
  ['a token naming an unknown kid', () => bearer(attacker.sign())],
  [
    'a token signed by another key under the trusted kid',
    () => bearer(attacker.sign({ header: { kid: trusted.kid } })),
  ],
  ['an ES256 header on the RSA key', () => bearer(trusted.sign({ header: { alg: 'ES256' } }))],
  [
    'a token bringing its own key (jwk header)',
    () => bearer(attacker.sign({ header: { kid: trusted.kid, jwk: attacker.jwks().keys[0] } })),
  ],
  [
    'a token pointing at its own key set (jku header)',
    () => bearer(attacker.sign({ header: { jku: 'https://evil.example/jwks.json' } })),
  ],
  [
    'a token longer than 4096 characters',
    () => bearer(trusted.sign({ claims: trusted.claims({ pad: 'x'.repeat(4096) }) })),
  ],
  [
    'a tampered payload (sub swapped, signature kept)',
    () => {
      const token = trusted.sign();
      return bearer(
        TokenFactory.withPayload(token, {
          ...TokenFactory.decode(token).claims,
          sub: 'someone-else',
        }),
      );
    },
  ],
];

/** Tokens inside the tolerated 30 s of clock skew. */
const TOLERATED: Array<[string, () => Record<string, unknown>]> = [
  ['expired 10 s ago', () => trusted.claims({ iat: now() - 310, exp: now() - 10 })],
  ['not valid for another 20 s (nbf)', () => trusted.claims({ nbf: now() + 20 })],
  ['issued 20 s in the future (iat)', () => trusted.claims({ iat: now() + 20 })],
];

// ---------------------------------------------------------------------------------------------

/** A stand-in for the auth service's JWKS endpoint, answering like a Nest NATS server. */
function serveJwks(
  nc: NatsConnection,
  jwks: () => unknown,
  onRequest: () => void = () => undefined,
): void {
  nc.subscribe(Subjects.auth.jwks, {
    callback: (_err, msg) => {
      onRequest();
      const { id } = jc.decode(msg.data) as { id: string };
      msg.respond(jc.encode({ id, response: jwks(), isDisposed: true }));
    },
  });
}

async function eventually<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (done(last)) {
        return last;
      }
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(
    `condition not met within ${timeoutMs} ms; last value ${JSON.stringify(last)}` +
      (lastError instanceof Error ? `, last error ${lastError.message}` : ''),
  );
}

describe(BatonAuthModule.name, () => {
  describe.each<[string, Boot]>([
    ['HTTP', bootHttp],
    ['NATS', bootNats],
  ])('over %s', (transport, boot) => {
    let nats: NatsServerHandle;
    let nc: NatsConnection;
    let service: Service;
    let jwks = trusted.jwks();
    let jwksRequests = 0;
    /** What the downstream service saw, and how many requests it holds before answering. */
    const downstream = {
      seen: [] as Array<Record<string, string | null>>,
      batch: 1,
      held: [] as Msg[],
    };

    const call = (route: string, authorization?: string, extra?: Record<string, string>) =>
      service.call(route, authorization, extra);

    beforeAll(async () => {
      nats = await startNatsServer();
      nc = await connect({ servers: nats.url });
      serveJwks(
        nc,
        () => jwks,
        () => jwksRequests++,
      );
      nc.subscribe('downstream.echo', {
        callback: (_err, msg) => {
          downstream.seen.push({
            authorization: msg.headers?.get('authorization') || null,
            requestId: msg.headers?.get('x-request-id') || null,
          });
          downstream.held.push(msg);
          if (downstream.held.length >= downstream.batch) {
            for (const m of downstream.held.splice(0)) {
              const { id } = jc.decode(m.data) as { id: string };
              m.respond(
                jc.encode({
                  id,
                  response: { authorization: m.headers?.get('authorization') || null },
                  isDisposed: true,
                }),
              );
            }
          }
        },
      });
      await nc.flush();
      service = await boot(nats.url, () => nc);
    });

    afterAll(async () => {
      await service?.close();
      await nc?.close();
      await nats?.stop();
    });

    it('should have fetched the signing keys from auth.jwks while starting', () => {
      expect(jwksRequests).toBeGreaterThanOrEqual(1);
      expect(service.app.get(KeyStore).size).toBe(1);
    });

    describe('valid tokens', () => {
      it('should let a valid access token through', async () => {
        await expect(call('probe/protected', bearer(trusted.sign()))).resolves.toEqual({
          status: 200,
          body: { ok: true },
        });
      });

      it('should hand the handler the verified caller through @CurrentUser()', async () => {
        const claims = trusted.claims({ roles: ['user', 'admin'] });

        const { status, body } = await call('probe/me', bearer(trusted.sign({ claims })));

        expect(status).toBe(200);
        expect(body).toEqual({
          sub: claims['sub'],
          roles: ['user', 'admin'],
          sid: claims['sid'],
          jti: claims['jti'],
          iat: claims['iat'],
          exp: claims['exp'],
        });
      });

      it('should accept the media-type form of typ (application/at+jwt)', async () => {
        const token = trusted.sign({ header: { typ: 'application/at+jwt' } });

        expect((await call('probe/protected', bearer(token))).status).toBe(200);
      });

      it('should accept an audience list that contains this audience', async () => {
        const token = trusted.sign({ claims: trusted.claims({ aud: ['billing', 'baton'] }) });

        expect((await call('probe/protected', bearer(token))).status).toBe(200);
      });

      it.each(TOLERATED)('should tolerate clock skew: a token %s', async (_label, claims) => {
        const answer = await call('probe/protected', bearer(trusted.sign({ claims: claims() })));

        expect(answer).toEqual({ status: 200, body: { ok: true } });
      });
    });

    describe('refused tokens', () => {
      it.each(REFUSED)(
        `should refuse %s with 401 over ${transport}`,
        async (_label, authorization) => {
          const answer = await call('probe/protected', authorization());

          expect(answer).toMatchObject({
            status: 401,
            body: { statusCode: 401, message: GENERIC_401 },
          });
        },
      );

      it('should refuse a payload escalated to admin under the original signature with 401, not let it in', async () => {
        const token = trusted.sign();
        const escalated = TokenFactory.withPayload(token, {
          ...TokenFactory.decode(token).claims,
          roles: ['admin'],
        });

        expect((await call('probe/admin', bearer(escalated))).status).toBe(401);
        expect((await call('probe/me', bearer(escalated))).status).toBe(401);
        expect((await call('probe/admin', bearer(token))).status).toBe(403);
      });

      it('should refuse an unknown kid without asking auth for keys again and again', async () => {
        await service.app.get(KeyStore).refresh();
        const before = jwksRequests;

        for (let i = 0; i < 5; i++) {
          expect(
            (
              await call(
                'probe/protected',
                bearer(attacker.sign({ header: { kid: `unknown-${i}` } })),
              )
            ).status,
          ).toBe(401);
        }

        expect(jwksRequests - before).toBe(0);
      });
    });

    describe('roles', () => {
      it('should answer 403 to a user without the role a handler needs', async () => {
        const answer = await call('probe/admin', bearer(trusted.sign()));

        expect(answer).toMatchObject({
          status: 403,
          body: { statusCode: 403, message: 'You do not have the role this needs' },
        });
      });

      it.each([[['admin']], [['user', 'admin']]])(
        'should let a caller with roles %j into an admin handler',
        async (roles) => {
          const answer = await call(
            'probe/admin',
            bearer(trusted.sign({ claims: trusted.claims({ roles }) })),
          );

          expect(answer).toEqual({ status: 200, body: { admin: true } });
        },
      );

      it('should answer 403 to a service token on an admin handler', async () => {
        const token = trusted.sign({
          claims: trusted.claims({ sub: 'svc:orders', roles: ['service'] }),
        });

        expect((await call('probe/admin', bearer(token))).status).toBe(403);
      });

      it('should answer 401, not 403, to an admin handler called without a token', async () => {
        expect((await call('probe/admin')).status).toBe(401);
      });
    });

    describe('@Public()', () => {
      it('should let a public handler run without a token', async () => {
        await expect(call('probe/public')).resolves.toEqual({
          status: 200,
          body: { public: true },
        });
      });

      it('should let a public handler run whatever the Authorization header holds', async () => {
        expect((await call('probe/public', 'Bearer not-a-jwt')).status).toBe(200);
        expect((await call('probe/public', bearer(attacker.sign()))).status).toBe(200);
      });

      it('should honour @Public() on a whole controller', async () => {
        await expect(call('open/ping')).resolves.toEqual({ status: 200, body: { pong: true } });
      });
    });

    describe('revocation', () => {
      const forever = () => now() + 3600;

      it('should refuse a token whose jti was revoked, and only that token', async () => {
        const claims = trusted.claims();
        const revoked = trusted.sign({ claims });
        const sameSession = trusted.sign({ claims: { ...claims, jti: randomUUID() } });
        expect((await call('probe/protected', bearer(revoked))).status).toBe(200);

        await service.app.get(RevocationStore).revoke('jti', claims['jti'] as string, forever());

        expect((await call('probe/protected', bearer(revoked))).status).toBe(401);
        expect((await call('probe/protected', bearer(sameSession))).status).toBe(200);
      });

      it('should refuse every token of a revoked session (sid)', async () => {
        const sid = randomUUID();
        const first = trusted.sign({ claims: trusted.claims({ sid }) });
        const second = trusted.sign({ claims: trusted.claims({ sid }) });
        const otherSession = trusted.sign({
          claims: trusted.claims({ sub: TokenFactory.decode(first).claims['sub'] }),
        });

        await service.app.get(RevocationStore).revoke('sid', sid, forever());

        expect((await call('probe/protected', bearer(first))).status).toBe(401);
        expect((await call('probe/protected', bearer(second))).status).toBe(401);
        expect((await call('probe/protected', bearer(otherSession))).status).toBe(200);
      });

      it('should refuse a session auth revoked in the shared bucket, learnt through the watch', async () => {
        const sid = randomUUID();
        const token = trusted.sign({ claims: trusted.claims({ sid }) });
        expect((await call('probe/protected', bearer(token))).status).toBe(200);

        // what the auth service does: write to the bucket; this service only watches it
        const kv = await nc.jetstream().views.kv(REVOCATION_BUCKET);
        await kv.put(`sid.${sid}`, JSON.stringify({ until: forever() }));

        await eventually(
          () => call('probe/protected', bearer(token)),
          (answer) => answer.status === 401,
        );
      });
    });

    describe('propagation', () => {
      beforeEach(() => {
        downstream.seen.length = 0;
        downstream.held.length = 0;
        downstream.batch = 1;
      });

      it("should forward the caller's token and request id when a handler calls another service", async () => {
        const token = trusted.sign();

        const answer = await call('probe/relay', bearer(token), { 'x-request-id': 'req-relay-1' });

        expect(answer).toEqual({ status: 200, body: { authorization: bearer(token) } });
        expect(downstream.seen).toEqual([
          { authorization: bearer(token), requestId: 'req-relay-1' },
        ]);
      });

      it('should forward each concurrent caller its own token', async () => {
        downstream.batch = 2; // both requests are in flight before either is answered
        const alice = trusted.sign({ claims: trusted.claims({ sub: 'alice' }) });
        const bob = trusted.sign({ claims: trusted.claims({ sub: 'bob' }) });

        const [forAlice, forBob] = await Promise.all([
          call('probe/relay', bearer(alice), { 'x-request-id': 'req-alice' }),
          call('probe/relay', bearer(bob), { 'x-request-id': 'req-bob' }),
        ]);

        expect(forAlice).toEqual({ status: 200, body: { authorization: bearer(alice) } });
        expect(forBob).toEqual({ status: 200, body: { authorization: bearer(bob) } });
        expect(downstream.seen).toHaveLength(2);
        expect(downstream.seen).toEqual(
          expect.arrayContaining([
            { authorization: bearer(alice), requestId: 'req-alice' },
            { authorization: bearer(bob), requestId: 'req-bob' },
          ]),
        );
      });

      it("should not pass an earlier caller's token on for an anonymous caller (no client-wide header)", async () => {
        const token = trusted.sign();
        await call('probe/relay', bearer(token));

        const answer = await call('probe/public-relay');

        expect(answer).toEqual({ status: 200, body: { authorization: null } });
        expect(downstream.seen.map((s) => s['authorization'])).toEqual([bearer(token), null]);
      });
    });

    describe('key rotation', () => {
      it('should accept tokens of a key announced on auth.keys.rotated', async () => {
        const rotated = new TokenFactory();
        const token = rotated.sign();
        await service.app.get(KeyStore).refresh(); // no refetch for unknown kids for the next 10 s
        expect((await call('probe/protected', bearer(token))).status).toBe(401);

        jwks = { keys: [...trusted.jwks().keys, ...rotated.jwks().keys] };
        nc.publish(Events.keysRotated);

        await eventually(
          () => call('probe/protected', bearer(token)),
          (answer) => answer.status === 200,
        );
        expect((await call('probe/protected', bearer(trusted.sign()))).status).toBe(200);
      });
    });

    // Breaks NATS for the service: keep it last.
    if (transport === 'HTTP') {
      describe('revocation list not current', () => {
        it('should refuse valid tokens with 503 (not let them in) once the revocation watch is cut off', async () => {
          const revocations = service.app.get(RevocationStore);
          expect((await call('probe/protected', bearer(trusted.sign()))).status).toBe(200);

          await nats.stop(); // the connection the watch runs on is gone: revocations may be missed

          await eventually(
            () => Promise.resolve(revocations.isCurrent),
            (current) => !current,
          );
          expect(await call('probe/protected', bearer(trusted.sign()))).toMatchObject({
            status: 503,
            body: { statusCode: 503, message: 'Revocation list not available yet; try again' },
          });
          expect((await call('probe/public')).status).toBe(200);
        });
      });
    }
  });

  describe('over NATS, with the revocation watch cut off', () => {
    let transportServer: NatsServerHandle;
    let authServer: NatsServerHandle;
    let requests: NatsConnection;
    let standIn: NatsConnection;
    let service: Service;

    beforeAll(async () => {
      [transportServer, authServer] = await Promise.all([startNatsServer(), startNatsServer()]);
      requests = await connect({ servers: transportServer.url });
      standIn = await connect({ servers: authServer.url });
      serveJwks(standIn, () => trusted.jwks());
      await standIn.flush();
      service = await bootNats(authServer.url, () => requests, transportServer.url);
    });

    afterAll(async () => {
      await service?.close();
      await requests?.close();
      await standIn?.close();
      await transportServer?.stop();
      await authServer?.stop();
    });

    it('should refuse valid tokens with 503 (not let them in) while the revocation list may be stale', async () => {
      const revocations = service.app.get(RevocationStore);
      expect((await service.call('probe/protected', bearer(trusted.sign()))).status).toBe(200);

      await authServer.stop();

      await eventually(
        () => Promise.resolve(revocations.isCurrent),
        (current) => !current,
      );
      expect(await service.call('probe/protected', bearer(trusted.sign()))).toMatchObject({
        status: 503,
        body: { statusCode: 503, message: 'Revocation list not available yet; try again' },
      });
      expect((await service.call('probe/public')).status).toBe(200);
    });
  });
});
