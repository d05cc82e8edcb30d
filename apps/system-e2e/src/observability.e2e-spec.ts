import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import {
  createTestDatabase,
  HttpClient,
  natsRequest,
  startNatsServer,
  startSystem,
} from '@baton/testing';
import type { NatsServerHandle, RunningSystem, ServiceName, TestDatabase } from '@baton/testing';

interface LogLine {
  level: string;
  service: string;
  msg: string;
  requestId?: string;
  sub?: string;
  [field: string]: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * What an operator sees: JSON log lines from every process that name the service, the request id
 * and the caller; the request id carried from the HTTP request through every NATS hop and back in
 * `X-Request-Id`; the log level from LOG_LEVEL; and `/health` reporting each dependency.
 */
describe('Logs, request ids and health', () => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let system: RunningSystem;
  let http: HttpClient;
  const alice = { email: 'obs-alice@example.test', password: 'obs-alice-password' };
  let aliceId: string;
  let aliceToken: string;

  /** Every line a service has written so far, each parsed as JSON (a line that is not fails). */
  const linesOf = (service: ServiceName): LogLine[] =>
    system.logs[service]
      .join('')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        try {
          return JSON.parse(line) as LogLine;
        } catch {
          throw new Error(`${service} wrote a line that is not JSON: ${line}`);
        }
      });

  /** The lines of `service` for one request, once at least `count` of them have arrived. */
  const linesFor = async (service: ServiceName, requestId: string, count = 1) => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const lines = linesOf(service).filter((l) => l.requestId === requestId);
      if (lines.length >= count || Date.now() > deadline) {
        return lines;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    db = await createTestDatabase();
    system = await startSystem({
      natsUrl: nats.url,
      storeEnv: db.env,
      env: { LOG_LEVEL: 'debug', NATS_REQUEST_TIMEOUT_MS: '1500' },
    });
    http = new HttpClient(system.gatewayUrl);
    const registered = await http.post<{ id: string }>('/auth/register', alice);
    expect(registered.status).toBe(201);
    aliceId = registered.body.id;
    const login = await http.post<{ accessToken: string }>('/auth/login', alice);
    aliceToken = login.body.accessToken;
    expect(
      (await http.patch('/profile/me', { shippingAddress: '1 Relay Road' }, aliceToken)).status,
    ).toBe(200);
  });

  afterAll(async () => {
    await system?.stop();
    await nats?.stop();
    await db?.drop();
  });

  describe('request ids', () => {
    it('should send back the X-Request-Id the client sent', async () => {
      const requestId = `obs-${randomUUID()}`;
      const res = await http.request('GET', '/orders', {
        token: aliceToken,
        headers: { 'x-request-id': requestId },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe(requestId);
    });

    it('should make a fresh one when the client sent none, or one that is not sane', async () => {
      for (const sent of [undefined, 'has spaces', 'x'.repeat(129), 'with/slash']) {
        const res = await http.request('GET', '/auth/me', {
          token: aliceToken,
          headers: sent === undefined ? {} : { 'x-request-id': sent },
        });
        expect({ sent, status: res.status, id: res.headers.get('x-request-id') }).toEqual({
          sent,
          status: 200,
          id: expect.stringMatching(UUID),
        });
      }
    });

    it('should use the fresh one it sent back at every hop', async () => {
      const res = await http.request('GET', '/auth/me', {
        token: aliceToken,
        headers: { 'x-request-id': 'not sane' },
      });
      const requestId = res.headers.get('x-request-id') ?? '';
      expect(requestId).toMatch(UUID);
      expect(await linesFor('gateway', requestId)).toContainEqual(
        expect.objectContaining({ msg: 'request completed', route: '/auth/me' }),
      );
      expect(await linesFor('auth', requestId)).toContainEqual(
        expect.objectContaining({ msg: 'message handled', subject: 'auth.me', sub: aliceId }),
      );
    });

    it.each([
      ['a refusal by the guard (401)', 'GET', '/orders', undefined],
      ['a body that is not JSON (400)', 'POST', '/orders', '{"items": '],
      ['an unknown route (404)', 'GET', '/no/such/route', undefined],
      ['the documentation', 'GET', '/docs/openapi.json', undefined],
    ])('should carry it on %s', async (_what, method, path, raw) => {
      const requestId = `obs-${randomUUID()}`;
      const headers: Record<string, string> = { 'x-request-id': requestId };
      if (raw !== undefined) {
        headers['authorization'] = `Bearer ${aliceToken}`;
        headers['content-type'] = 'application/json';
      }
      const res = await http.request(method, path, { headers, raw });
      expect(res.status).not.toBe(500);
      expect(res.headers.get('x-request-id')).toBe(requestId);
    });

    it('should carry it on a request refused for two Authorization headers', async () => {
      const requestId = `obs-${randomUUID()}`;
      // a Headers object keeps both lines
      const headers = new Headers({ 'x-request-id': requestId });
      headers.append('authorization', `Bearer ${aliceToken}`);
      headers.append('authorization', `Bearer ${aliceToken}`);
      const res = await fetch(`${system.gatewayUrl}/orders`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('x-request-id')).toBe(requestId);
    });
  });

  describe('logs', () => {
    it('should write only JSON lines, each naming its service', () => {
      for (const service of ['gateway', 'auth', 'orders', 'profile'] as const) {
        const lines = linesOf(service);
        expect(lines.length).toBeGreaterThan(0);
        for (const line of lines) {
          expect({ service: line.service, level: typeof line.level }).toEqual({
            service,
            level: 'string',
          });
        }
      }
    });

    it("should log a request in the gateway and at every NATS hop with the client's request id and the caller's sub", async () => {
      const requestId = `obs-${randomUUID()}`;
      const res = await http.request('POST', '/orders', {
        token: aliceToken,
        headers: { 'x-request-id': requestId },
        body: { items: [{ sku: 'BATON-1', quantity: 2, unitPrice: 3.5 }] },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ shippingAddress: '1 Relay Road' });

      const gateway = await linesFor('gateway', requestId);
      const orders = await linesFor('orders', requestId);
      const profile = await linesFor('profile', requestId);
      for (const [service, lines] of [
        ['gateway', gateway],
        ['orders', orders],
        ['profile', profile],
      ] as const) {
        expect({ service, logged: lines.length > 0 }).toEqual({ service, logged: true });
        for (const line of lines) {
          expect(line).toMatchObject({ service, requestId, sub: aliceId });
        }
      }
      expect(gateway).toContainEqual(
        expect.objectContaining({
          msg: 'request completed',
          method: 'POST',
          route: '/orders',
          statusCode: 201,
          durationMs: expect.any(Number),
        }),
      );
      expect(orders).toContainEqual(
        expect.objectContaining({ msg: 'message handled', subject: 'orders.create' }),
      );
      // orders asked profile for the address, as alice, under the same request id
      expect(profile).toContainEqual(
        expect.objectContaining({ msg: 'message handled', subject: 'profile.get' }),
      );
    });

    it('should log a refused request with its request id and status but no sub', async () => {
      const requestId = `obs-${randomUUID()}`;
      const res = await http.request('GET', '/orders', {
        token: 'not-a-token',
        headers: { 'x-request-id': requestId },
      });
      expect(res.status).toBe(401);
      const [line] = await linesFor('gateway', requestId);
      expect(line).toMatchObject({ requestId, statusCode: 401, route: '/orders' });
      expect(line).not.toHaveProperty('sub');
    });

    it('should log a failed NATS message with its status under the request id', async () => {
      const requestId = `obs-${randomUUID()}`;
      const res = await http.request('GET', `/orders/${randomUUID()}`, {
        token: aliceToken,
        headers: { 'x-request-id': requestId },
      });
      expect(res.status).toBe(404);
      const lines = await linesFor('orders', requestId);
      expect(lines).toContainEqual(
        expect.objectContaining({
          msg: 'message failed',
          subject: 'orders.get',
          statusCode: 404,
          sub: aliceId,
        }),
      );
    });

    it('should log at the level LOG_LEVEL names (debug here: the health probes show)', () => {
      expect(linesOf('orders')).toContainEqual(
        expect.objectContaining({ level: 'debug', subject: 'orders.health' }),
      );
    });

    it("should never log the caller's token or password", () => {
      const all = Object.values(system.logs).flat().join('');
      for (const secret of [aliceToken, alice.password, 'eyJ']) {
        expect(all.includes(secret)).toBe(false);
      }
    });
  });

  describe('health', () => {
    it('should report NATS and each service with its database', async () => {
      const res = await http.get('/health');
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toContain('no-store');
      expect(res.body).toEqual({
        status: 'ok',
        checks: { nats: 'up', auth: 'up', orders: 'up', profile: 'up' },
        details: {
          nats: { status: 'up' },
          auth: { status: 'up', database: 'up' },
          orders: { status: 'up', database: 'up' },
          profile: { status: 'up', database: 'up' },
        },
      });
    });

    it('should answer 503 with every check, saying which service is down, and recover', async () => {
      await system.stop('profile');
      try {
        const res = await http.get('/health');
        expect(res.status).toBe(503);
        expect(res.body).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'Some dependencies are down',
          status: 'error',
          checks: { nats: 'up', auth: 'up', orders: 'up', profile: 'down' },
          details: {
            nats: { status: 'up' },
            auth: { status: 'up', database: 'up' },
            orders: { status: 'up', database: 'up' },
            profile: { status: 'down', message: expect.stringContaining('profile') },
          },
        });
      } finally {
        await system.start('profile');
      }
      expect((await http.get('/health')).status).toBe(200);
    });

    it('should leave each service answering its health subject over NATS', async () => {
      const nc = await connect({ servers: nats.url });
      try {
        for (const service of ['auth', 'orders', 'profile']) {
          const reply = await natsRequest(nc, `${service}.health`, {});
          expect(reply.response).toEqual({ status: 'ok', service, checks: { database: 'up' } });
        }
      } finally {
        await nc.close();
      }
    });
  });
});
