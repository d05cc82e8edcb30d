import { connect, headers as natsHeaders, JSONCodec } from 'nats';
import type { NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import {
  bootSystem,
  leaksInLogs,
  createTestDatabase,
  HttpClient,
  natsRequest,
  queryServiceDb,
  startNatsServer,
  startSystem,
  TokenFactory,
} from '@baton/testing';
import type { BootedSystem, NatsServerHandle, RunningSystem, TestDatabase } from '@baton/testing';

const KEY_ENCRYPTION_SECRET = 'a-test-key-encryption-secret-of-40-chars!';

/**
 * The token lifecycle over real NATS: refresh rotation under concurrency, revocations that survive
 * a service restart, service identity, key encryption at rest, the audit log and login throttling.
 */
describe('Token lifecycle', () => {
  let booted: BootedSystem;
  let db: TestDatabase;
  let system: RunningSystem;
  let http: HttpClient;
  let nc: NatsConnection;
  const user = { email: 'carol@example.test', password: 'carol-password-1' };

  const login = async (email = user.email, password = user.password) => {
    const res = await http.post('/auth/login', { email, password });
    expect(res.status).toBe(200);
    return res.body as { accessToken: string; refreshToken: string };
  };

  beforeAll(async () => {
    booted = await bootSystem({
      env: { KEY_ENCRYPTION_SECRET, NATS_REQUEST_TIMEOUT_MS: '2000' },
    });
    ({ db, system, http, nc } = booted);
    expect((await http.post('/auth/register', user)).status).toBe(201);
  });

  afterAll(async () => {
    await booted?.stop();
  });

  it('should let exactly one of several concurrent refreshes with the same token succeed', async () => {
    const session = await login();
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        http.post('/auth/refresh', { refreshToken: session.refreshToken }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401, 401, 401, 401]);
    // the losers presented a retired token: the whole family is dead, the winner's pair included
    const winner = results.find((r) => r.status === 200)!.body;
    expect((await http.post('/auth/refresh', { refreshToken: winner.refreshToken })).status).toBe(
      401,
    );
    expect((await http.get('/auth/me', winner.accessToken)).status).toBe(401);
  });

  it('should still refuse a revoked token after a service restarts', async () => {
    const session = await login();
    expect((await natsRequest(nc, 'orders.list', {}, session.accessToken)).response).toEqual([]);
    await system.stop('orders');
    await system.stop('profile');
    expect((await http.post('/auth/logout', {}, session.accessToken)).status).toBe(204);
    await system.start('orders');
    await system.start('profile');
    expect((await natsRequest(nc, 'orders.list', {}, session.accessToken)).err).toMatchObject({
      statusCode: 401,
    });
    expect((await natsRequest(nc, 'profile.get', {}, session.accessToken)).err).toMatchObject({
      statusCode: 401,
    });
    const fresh = await login();
    expect((await natsRequest(nc, 'orders.list', {}, fresh.accessToken)).response).toEqual([]);
  });

  it('should hold revocations in the JetStream key-value bucket', async () => {
    const session = await login();
    const { claims } = TokenFactory.decode(session.accessToken);
    await http.post('/auth/logout', {}, session.accessToken);
    const kv = await nc.jetstream().views.kv('baton_revocations');
    expect(await kv.get(`sid.${String(claims['sid'])}`)).toMatchObject({ operation: 'PUT' });
    expect(await kv.get(`jti.${String(claims['jti'])}`)).toMatchObject({ operation: 'PUT' });
    const status = await kv.status();
    expect(status.ttl).toBeGreaterThanOrEqual(900_000);
  });

  describe('service identity', () => {
    it('should refuse auth.service-token with wrong credentials', async () => {
      const reply = await natsRequest(nc, 'auth.service-token', {
        service: 'orders',
        secret: 'x'.repeat(24),
      });
      expect(reply.err).toMatchObject({ statusCode: 401 });
      const unknown = await natsRequest(nc, 'auth.service-token', {
        service: 'billing',
        secret: 'x'.repeat(24),
      });
      expect(unknown.err).toMatchObject({ statusCode: 401 });
      // the longest name there can be is refused like any other (its refusal is audited)
      const longest = await natsRequest(nc, 'auth.service-token', {
        service: `b${'x'.repeat(59)}`,
        secret: 'x'.repeat(24),
      });
      expect(longest.err).toMatchObject({ statusCode: 401 });
      const tooLong = await natsRequest(nc, 'auth.service-token', {
        service: `b${'x'.repeat(60)}`,
        secret: 'x'.repeat(24),
      });
      expect(tooLong.err).toMatchObject({ statusCode: 400 });
    });

    it('should issue a short-lived svc:<name> token with the service role against valid credentials', async () => {
      const reply = await natsRequest(nc, 'auth.service-token', {
        service: 'orders',
        secret: system.serviceSecrets.orders,
      });
      expect(reply.err ?? undefined).toBeUndefined();
      const { header, claims } = TokenFactory.decode(reply.response.accessToken);
      expect(header).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
      expect(claims).toMatchObject({ sub: 'svc:orders', roles: ['service'] });
      expect((claims['exp'] as number) - (claims['iat'] as number)).toBeLessThanOrEqual(300);
      // a service token is no user token: user handlers refuse it with 403
      expect(
        (await natsRequest(nc, 'profile.get', {}, reply.response.accessToken)).err,
      ).toMatchObject({
        statusCode: 403,
      });
    });

    it('should accept auth.user.registered only from a service token', async () => {
      const admin = await login(system.admin.email, system.admin.password);
      const publish = (token: string, id: string) => {
        const h = natsHeaders();
        h.set('authorization', `Bearer ${token}`);
        nc.publish(
          'auth.user.registered',
          JSONCodec().encode({
            pattern: 'auth.user.registered',
            data: { userId: id, displayName: 'Eve' },
          }),
          { headers: h },
        );
      };
      const byUser = randomUUID();
      publish((await login()).accessToken, byUser);
      await nc.flush();
      await new Promise((r) => setTimeout(r, 300));
      expect((await http.get(`/profiles/${byUser}`, admin.accessToken)).status).toBe(404);

      // the auth service registers users with its own service token: the profile appears
      const res = await http.post('/auth/register', {
        email: 'dave@example.test',
        password: 'dave-password-12',
        displayName: 'Dave',
      });
      const deadline = Date.now() + 3000;
      let profile = await http.get(`/profiles/${res.body.id}`, admin.accessToken);
      while (profile.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        profile = await http.get(`/profiles/${res.body.id}`, admin.accessToken);
      }
      expect(profile.body).toMatchObject({ userId: res.body.id, displayName: 'Dave' });
    });
  });

  it('should keep signing keys encrypted at rest when KEY_ENCRYPTION_SECRET is set', async () => {
    const rows = await queryServiceDb<{ private_key: string }>(
      db,
      'auth',
      'SELECT private_key FROM signing_keys',
    );
    expect(rows.length).toBeGreaterThanOrEqual(1);
    for (const row of rows) {
      expect(row.private_key.startsWith('enc:v1:')).toBe(true);
      expect(row.private_key).not.toContain('PRIVATE KEY');
    }
  });

  it('should store refresh tokens only as hashes', async () => {
    const session = await login();
    const rows = await queryServiceDb<{ token_hash: string }>(
      db,
      'auth',
      'SELECT token_hash FROM refresh_tokens',
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((r) => r.token_hash === session.refreshToken)).toBe(false);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
  });

  it('should throttle failed logins per account with 429 and Retry-After, without locking out others', async () => {
    const victim = { email: 'erin@example.test', password: 'erin-password-12' };
    await http.post('/auth/register', victim);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push(
        (await http.post('/auth/login', { email: victim.email, password: 'wrong-password-x' }))
          .status,
      );
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses).toContain(429);
    const blocked = await http.post('/auth/login', victim);
    expect(blocked.status).toBe(429);
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(blocked.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    // another account is not affected by the victim's lock
    expect((await http.post('/auth/login', user)).status).toBe(200);
  });

  it('should audit the lifecycle with request ids and client addresses, and never a secret', async () => {
    const admin = await login(system.admin.email, system.admin.password);
    const events = (await http.get('/admin/audit?limit=500', admin.accessToken)).body as {
      type: string;
      userId: string | null;
      actorId: string | null;
      requestId: string | null;
      clientIp: string | null;
    }[];
    const types = new Set(events.map((e) => e.type));
    for (const type of [
      'user.registered',
      'login.succeeded',
      'login.failed',
      'login.throttled',
      'token.refreshed',
      'refresh.reused',
      'logout',
      'service-token.refused',
    ]) {
      expect({ type, present: types.has(type) }).toEqual({ type, present: true });
    }
    const succeeded = events.find((e) => e.type === 'login.succeeded')!;
    expect(succeeded.requestId).toEqual(expect.any(String));
    expect(succeeded.clientIp).toEqual(expect.stringMatching(/127\.0\.0\.1/));
    const dump = JSON.stringify(events);
    for (const secret of [user.password, system.admin.password, 'eyJ']) {
      expect(dump).not.toContain(secret);
    }
  });

  it('should name the actor of each lifecycle event: the user for their own session, the service for its token, no one when the caller proved nothing', async () => {
    const admin = await login(system.admin.email, system.admin.password);
    const carolId = String(TokenFactory.decode((await login()).accessToken).claims['sub']);
    const audit = async (query: string) => {
      const res = await http.get(`/admin/audit?limit=500&${query}`, admin.accessToken);
      expect(res.status).toBe(200);
      return res.body as { type: string; userId: string | null; actorId: string | null }[];
    };
    const actorsOf = (events: { type: string; actorId: string | null }[]) =>
      Object.fromEntries(
        [...new Set(events.map((e) => e.type))].map((type) => [
          type,
          [...new Set(events.filter((e) => e.type === type).map((e) => e.actorId))],
        ]),
      );

    expect(actorsOf(await audit(`userId=${carolId}`))).toEqual({
      'user.registered': [null],
      'login.succeeded': [carolId],
      'token.refreshed': [carolId],
      // presenting a retired refresh token proves nothing: an attacker may hold it
      'refresh.reused': [null],
      logout: [carolId],
    });
    const everything = await audit('');
    const byType = actorsOf(everything);
    for (const type of ['login.failed', 'login.throttled', 'service-token.refused']) {
      expect({ type, actors: byType[type] }).toEqual({ type, actors: [null] });
    }
    for (const issued of everything.filter((e) => e.type === 'service-token.issued')) {
      expect(issued.actorId).toBe(issued.userId);
    }
    const byOrders = await audit('actorId=svc:orders');
    expect(byOrders.length).toBeGreaterThan(0);
    expect(byOrders.every((e) => e.type === 'service-token.issued')).toBe(true);
    expect(byOrders.every((e) => e.userId === 'svc:orders' && e.actorId === 'svc:orders')).toBe(
      true,
    );
  });

  it('should never write a token, password or private key to any log line', () => {
    const all = Object.values(system.logs).flat().join('');
    expect(all.length).toBeGreaterThan(0);
    expect(
      leaksInLogs(system.logs, [user.password, system.admin.password, KEY_ENCRYPTION_SECRET]),
    ).toEqual([]);
  });

  describe('refresh token expiry', () => {
    // a system of its own, on its own NATS: two systems on one server would share queue groups
    let shortNats: NatsServerHandle;
    let short: RunningSystem;
    let shortDb: TestDatabase;
    let api: HttpClient;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    beforeAll(async () => {
      shortNats = await startNatsServer();
      shortDb = await createTestDatabase();
      short = await startSystem({
        natsUrl: shortNats.url,
        storeEnv: shortDb.env,
        env: { REFRESH_TOKEN_TTL: '2', SESSION_MAX_TTL: '4', ACCESS_TOKEN_TTL: '120' },
      });
      api = new HttpClient(short.gatewayUrl);
      await api.post('/auth/register', user);
    });

    afterAll(async () => {
      await short?.stop();
      await shortNats?.stop();
      await shortDb?.drop();
    });

    it('should refuse a refresh token left unused past its inactivity expiry', async () => {
      const session = (await api.post('/auth/login', user)).body;
      await sleep(2500);
      expect((await api.post('/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(
        401,
      );
    });

    it('should end a session at its absolute expiry however often it is refreshed', async () => {
      let pair = (await api.post('/auth/login', user)).body;
      for (let i = 0; i < 3; i++) {
        await sleep(1200);
        const next = await api.post('/auth/refresh', { refreshToken: pair.refreshToken });
        expect(next.status).toBe(200);
        pair = next.body;
      }
      await sleep(1000);
      expect((await api.post('/auth/refresh', { refreshToken: pair.refreshToken })).status).toBe(
        401,
      );
    });

    it('should give service tokens no longer a life than ACCESS_TOKEN_TTL, which every process allows', async () => {
      const shortNc = await connect({ servers: shortNats.url });
      try {
        const reply = await natsRequest(shortNc, 'auth.service-token', {
          service: 'orders',
          secret: short.serviceSecrets.orders,
        });
        expect(reply.err ?? undefined).toBeUndefined();
        const { accessToken, expiresIn } = reply.response as {
          accessToken: string;
          expiresIn: number;
        };
        const { claims } = TokenFactory.decode(accessToken);
        expect(expiresIn).toBe(120);
        expect((claims['exp'] as number) - (claims['iat'] as number)).toBe(120);
        // verified at the gateway and at profile (not 401), then refused for its role there
        expect((await api.get('/profile/me', accessToken)).status).toBe(403);
        expect((await natsRequest(shortNc, 'profile.get', {}, accessToken)).err).toMatchObject({
          statusCode: 403,
        });
      } finally {
        await shortNc.close();
      }
    });
  });
});
