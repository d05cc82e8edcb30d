import { readFileSync } from 'node:fs';
import type { NatsConnection } from 'nats';
import { bootSystem, natsRequest, queryServiceDb, SERVICES, TokenFactory } from '@baton/testing';
import type { BootedSystem, HttpClient, RunningSystem } from '@baton/testing';

/**
 * The whole contract of DESIGN.md, walked over real HTTP against the four real services, a real
 * nats-server started for the suite and a real store (SQLite temp files, or PostgreSQL when
 * DATABASE_URL is set).
 */
describe('Baton end to end', () => {
  let booted: BootedSystem;
  let system: RunningSystem;
  let http: HttpClient;
  let nc: NatsConnection;

  const alice = { email: 'Alice@Example.test', password: 'alice-password-1', displayName: 'Alice' };
  const bob = { email: 'bob@example.test', password: 'bob-password-123' };
  let aliceId: string;
  let aliceToken: string;
  let aliceRefresh: string;
  let bobToken: string;
  let adminToken: string;
  let aliceOrderId: string;

  const login = async (email: string, password: string) => {
    const res = await http.post('/auth/login', { email, password });
    expect(res.status).toBe(200);
    return res.body as { accessToken: string; refreshToken: string };
  };

  beforeAll(async () => {
    booted = await bootSystem({
      env: { NATS_REQUEST_TIMEOUT_MS: '1500' },
    });
    ({ system, http, nc } = booted);
  });
  const privateKeyOf = async (kid: unknown) =>
    (
      await queryServiceDb<{ private_key: string }>(
        booted.db,
        'auth',
        `SELECT private_key FROM signing_keys WHERE kid = '${String(kid)}'`,
      )
    )[0]?.private_key;

  afterAll(async () => {
    await booted?.stop();
  });

  it.each(SERVICES)("should run %s with the services' heap limits in NODE_OPTIONS", (service) => {
    const environ = readFileSync(`/proc/${system.pid(service)}/environ`, 'utf8').split('\0');

    expect(environ).toContain('NODE_OPTIONS=--max-old-space-size=512 --max-semi-space-size=16');
  });

  describe('registration and login', () => {
    it('should register a user with a lower-cased email and the user role', async () => {
      const res = await http.post('/auth/register', alice);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        email: 'alice@example.test',
        roles: ['user'],
      });
      aliceId = res.body.id;
      expect((await http.post('/auth/register', bob)).status).toBe(201);
    });

    it('should answer 409 when the email is taken, whatever its case', async () => {
      const res = await http.post('/auth/register', { ...alice, email: 'ALICE@example.test' });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
    });

    // Each request checks the email is free, then hashes for a while before it inserts: the unique
    // index decides between them, and what it refuses is a taken email, not a failure.
    it('should register an email sent several times at once exactly once, answering the rest 409', async () => {
      const dave = { email: 'dave@example.test', password: 'dave-password-12' };
      const answers = await Promise.all(
        Array.from({ length: 3 }, () => http.post('/auth/register', dave)),
      );

      expect(answers.map((res) => res.status).sort()).toEqual([201, 409, 409]);
      const rows = await queryServiceDb<{ n: number | string }>(
        booted.db,
        'auth',
        "SELECT COUNT(*) AS n FROM users WHERE email = 'dave@example.test'",
      );
      expect(Number(rows[0].n)).toBe(1);
    });

    it('should answer 400 for an invalid body and for unknown fields', async () => {
      expect((await http.post('/auth/register', { email: 'nope', password: 'short' })).status).toBe(
        400,
      );
      const extra = await http.post('/auth/register', {
        ...bob,
        email: 'carol@example.test',
        admin: true,
      });
      expect(extra.status).toBe(400);
      expect(extra.body.message).toContain('admin should not exist');
      expect(
        (
          await http.request('POST', '/auth/login', {
            raw: '{"email":',
            headers: { 'content-type': 'application/json' },
          })
        ).status,
      ).toBe(400);
    });

    it('should give the same 401 for an unknown email and a wrong password', async () => {
      const wrong = await http.post('/auth/login', {
        email: alice.email,
        password: 'wrong-password-1',
      });
      const unknown = await http.post('/auth/login', {
        email: 'nobody@example.test',
        password: 'wrong-password-1',
      });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual(wrong.body);
    });

    it('should issue an RS256 at+jwt access token with a kid, the design claims and no PII', async () => {
      const res = await http.post('/auth/login', { email: alice.email, password: alice.password });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
      aliceToken = res.body.accessToken;
      aliceRefresh = res.body.refreshToken;
      const { header, claims } = TokenFactory.decode(aliceToken);
      expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid: expect.any(String) });
      expect(Object.keys(claims).sort()).toEqual([
        'aud',
        'exp',
        'iat',
        'iss',
        'jti',
        'roles',
        'sid',
        'sub',
      ]);
      expect(claims).toMatchObject({
        iss: 'baton-auth',
        aud: 'baton',
        sub: aliceId,
        roles: ['user'],
      });
      expect(JSON.stringify(claims)).not.toContain('example.test');
      expect(Buffer.from(aliceRefresh, 'base64url').length).toBeGreaterThanOrEqual(32);
      bobToken = (await login(bob.email, bob.password)).accessToken;
      adminToken = (await login(system.admin.email, system.admin.password)).accessToken;
    });

    it('should answer /auth/me for the caller and 401 with WWW-Authenticate without a token', async () => {
      const me = await http.get('/auth/me', aliceToken);
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ id: aliceId, email: 'alice@example.test', roles: ['user'] });
      const anonymous = await http.get('/auth/me');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
      const garbage = await http.get('/auth/me', 'not-a-token');
      expect(garbage.status).toBe(401);
      expect(garbage.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    });

    it('should publish only public keys in the JWKS', async () => {
      const res = await http.get('/.well-known/jwks.json');
      expect(res.status).toBe(200);
      expect(res.body.keys.length).toBeGreaterThanOrEqual(1);
      for (const key of res.body.keys) {
        expect(key).toMatchObject({
          kty: 'RSA',
          alg: 'RS256',
          use: 'sig',
          kid: expect.any(String),
        });
        expect(key).not.toHaveProperty('d');
        expect(key).not.toHaveProperty('p');
      }
    });
  });

  describe('profile', () => {
    it('should have created the profile from the auth.user.registered event', async () => {
      const res = await http.get('/profile/me', aliceToken);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        userId: aliceId,
        displayName: 'Alice',
        shippingAddress: null,
      });
    });

    it('should update the caller’s own profile and validate the body', async () => {
      const res = await http.patch(
        '/profile/me',
        { shippingAddress: '1 Relay Road, Baton Rouge' },
        aliceToken,
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        userId: aliceId,
        shippingAddress: '1 Relay Road, Baton Rouge',
      });
      expect((await http.patch('/profile/me', { shippingAddress: 42 }, aliceToken)).status).toBe(
        400,
      );
      expect((await http.patch('/profile/me', { userId: 'x' }, aliceToken)).status).toBe(400);
      expect((await http.patch('/profile/me', { displayName: 'x' })).status).toBe(401);
    });

    it('should let only admins read another user’s profile', async () => {
      expect((await http.get(`/profiles/${aliceId}`, adminToken)).body).toMatchObject({
        userId: aliceId,
      });
      const forbidden = await http.get(`/profiles/${aliceId}`, bobToken);
      expect(forbidden.status).toBe(403);
      expect(forbidden.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
      expect(
        (await http.get('/profiles/7d3c1f3e-33a1-4d44-9a44-1f0d4c1c9c11', adminToken)).status,
      ).toBe(404);
      expect((await http.get('/profiles/not-a-uuid', adminToken)).status).toBe(400);
    });
  });

  describe('orders', () => {
    const items = [
      { sku: 'BATON-1', quantity: 2, unitPrice: 12.5 },
      { sku: 'TAPE-9', quantity: 1, unitPrice: 0.99 },
    ];

    it('should place an order for the token’s owner with the shipping address profile gave over NATS', async () => {
      const res = await http.post('/orders', { items }, aliceToken);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        userId: aliceId,
        items,
        total: 25.99,
        status: 'placed',
        shippingAddress: '1 Relay Road, Baton Rouge',
      });
      aliceOrderId = res.body.id;
    });

    it('should never take the owner from the body', async () => {
      const res = await http.post('/orders', { items, userId: aliceId }, bobToken);
      expect(res.status).toBe(400);
    });

    it('should return the first order for a retried Idempotency-Key and 409 for a different body', async () => {
      const key = { 'idempotency-key': 'retry-me-1' };
      const first = await http.post('/orders', { items }, bobToken, key);
      const again = await http.post('/orders', { items }, bobToken, key);
      expect(first.status).toBe(201);
      expect(again.body.id).toBe(first.body.id);
      const different = await http.post('/orders', { items: [items[0]] }, bobToken, key);
      expect(different.status).toBe(409);
      const list = await http.get('/orders', bobToken);
      expect(list.body.filter((o: { id: string }) => o.id === first.body.id)).toHaveLength(1);
    });

    it('should place one order for an Idempotency-Key sent several times at once', async () => {
      const key = { 'idempotency-key': 'race-me-1' };
      const answers = await Promise.all(
        Array.from({ length: 3 }, () => http.post('/orders', { items }, bobToken, key)),
      );

      expect(answers.map((res) => res.status)).toEqual([201, 201, 201]);
      expect(new Set(answers.map((res) => res.body.id)).size).toBe(1);
      const list = await http.get('/orders', bobToken);
      expect(list.body.filter((o: { id: string }) => o.id === answers[0].body.id)).toHaveLength(1);
    });

    it('should reject bad orders with 400', async () => {
      for (const body of [
        { items: [] },
        { items: [{ sku: 'A', quantity: 0, unitPrice: 1 }] },
        { items: [{ sku: 'A', quantity: 1, unitPrice: -1 }] },
        { items: [{ sku: 'A', quantity: 1, unitPrice: 1.001 }] },
        { items: [{ sku: 'A', quantity: 1, unitPrice: 1, color: 'red' }] },
        { items: 'lots' },
      ]) {
        const res = await http.post('/orders', body, aliceToken);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
      }
    });

    it('should show users their own orders only and answer 404 for another user’s order', async () => {
      const own = await http.get(`/orders/${aliceOrderId}`, aliceToken);
      expect(own.status).toBe(200);
      expect(own.body.id).toBe(aliceOrderId);
      const other = await http.get(`/orders/${aliceOrderId}`, bobToken);
      expect(other.status).toBe(404);
      const bobs = await http.get('/orders', bobToken);
      expect(bobs.body.every((o: { userId: string }) => o.userId !== aliceId)).toBe(true);
    });

    it('should show admins every order', async () => {
      const all = await http.get('/orders', adminToken);
      expect(all.status).toBe(200);
      const owners = new Set(all.body.map((o: { userId: string }) => o.userId));
      expect(owners.has(aliceId)).toBe(true);
      expect(owners.size).toBeGreaterThanOrEqual(2);
      expect((await http.get(`/orders/${aliceOrderId}`, adminToken)).status).toBe(200);
    });
  });

  describe('raw NATS messages are checked again by every service', () => {
    const forger = new TokenFactory();
    const cases: [string, unknown][] = [
      ['orders.create', { items: [{ sku: 'X', quantity: 1, unitPrice: 1 }] }],
      ['orders.list', {}],
      ['orders.get', { id: '7d3c1f3e-33a1-4d44-9a44-1f0d4c1c9c11' }],
      ['profile.get', {}],
      ['profile.update', { displayName: 'Mallory' }],
    ];

    it.each(cases)('should refuse %s without a token with 401', async (subject, data) => {
      const reply = await natsRequest(nc, subject, data);
      expect(reply.err).toMatchObject({ statusCode: 401 });
      expect(reply.response).toBeUndefined();
    });

    it.each(cases)('should refuse %s with a forged token with 401', async (subject, data) => {
      const forged = forger.sign({
        claims: forger.claims({ sub: aliceId, roles: ['user', 'admin'] }),
      });
      const reply = await natsRequest(nc, subject, data, forged);
      expect(reply.err).toMatchObject({ statusCode: 401 });
    });

    it.each(cases)(
      'should refuse %s with a real token whose payload was tampered with',
      async (subject, data) => {
        const { claims } = TokenFactory.decode(aliceToken);
        const escalated = TokenFactory.withPayload(aliceToken, {
          ...claims,
          roles: ['user', 'admin'],
        });
        const reply = await natsRequest(nc, subject, data, escalated);
        expect(reply.err).toMatchObject({ statusCode: 401 });
      },
    );

    it('should answer a raw request carrying a valid token', async () => {
      const reply = await natsRequest(nc, 'orders.get', { id: aliceOrderId }, aliceToken);
      expect(reply.err ?? undefined).toBeUndefined();
      expect(reply.response).toMatchObject({ id: aliceOrderId, userId: aliceId });
    });

    it('should refuse auth.user.registered from anything but a service token', async () => {
      const reply = await natsRequest(nc, 'profile.get', { userId: aliceId }, bobToken);
      expect(reply.err).toMatchObject({ statusCode: 403 });
    });
  });

  describe('admin', () => {
    it('should list audit events newest first, filtered, and refuse non-admins', async () => {
      const res = await http.get(`/admin/audit?userId=${aliceId}&limit=20`, adminToken);
      expect(res.status).toBe(200);
      const types = res.body.map((e: { type: string }) => e.type);
      expect(types).toEqual(
        expect.arrayContaining(['user.registered', 'login.succeeded', 'login.failed']),
      );
      const times = res.body.map((e: { createdAt: string }) => Date.parse(e.createdAt));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      expect(res.body.every((e: { userId: string }) => e.userId === aliceId)).toBe(true);
      const failed = await http.get('/admin/audit?type=login.failed', adminToken);
      expect(failed.body.every((e: { type: string }) => e.type === 'login.failed')).toBe(true);
      expect(JSON.stringify(res.body)).not.toContain(alice.password);
      expect((await http.get('/admin/audit', aliceToken)).status).toBe(403);
      expect((await http.get('/admin/audit?limit=0', adminToken)).status).toBe(400);
    });

    it('should page through the audit log with `before`, and bound it with `since`', async () => {
      const all = (await http.get('/admin/audit?limit=500', adminToken)).body as {
        id: string;
        createdAt: string;
      }[];
      expect(all.length).toBeGreaterThan(6);
      const paged: string[] = [];
      let before = '';
      for (let n = 0; n < all.length; n++) {
        const page = await http.get(`/admin/audit?limit=3${before}`, adminToken);
        expect(page.status).toBe(200);
        const ids = (page.body as { id: string }[]).map((e) => e.id);
        if (ids.length === 0) {
          break;
        }
        paged.push(...ids);
        before = `&before=${ids[ids.length - 1]}`;
      }
      // events written while paging (none here: reading the log writes nothing) would come first
      expect(paged).toEqual(all.map((e) => e.id));

      const since = all[2].createdAt;
      const recent = await http.get(`/admin/audit?limit=500&since=${since}`, adminToken);
      expect(recent.body.map((e: { id: string }) => e.id)).toEqual(
        all.filter((e) => e.createdAt >= since).map((e) => e.id),
      );
      const answers: { bad: string; status: number }[] = [];
      // ISO 8601 also writes week dates, ordinal dates and signed years, which are not instants
      // JavaScript can read; and a time without its offset would be read in the host's zone
      for (const bad of [
        'before=42',
        'since=yesterday',
        'since=2026-13-01T00:00:00Z',
        'since=2026-W01',
        'since=2026-100',
        'since=-9999-01-01T00:00:00Z',
        'since=2026-12-01T00:00:00',
      ]) {
        const res = await http.get(`/admin/audit?${bad}`, adminToken);
        answers.push({ bad, status: res.status });
      }
      expect(answers).toEqual(answers.map(({ bad }) => ({ bad, status: 400 })));
    });
  });

  describe('token lifecycle', () => {
    it('should rotate refresh tokens and kill the family when a rotated one is reused', async () => {
      const first = await login(bob.email, bob.password);
      const rotated = await http.post('/auth/refresh', { refreshToken: first.refreshToken });
      expect(rotated.status).toBe(200);
      expect(rotated.body.refreshToken).not.toBe(first.refreshToken);
      expect((await http.get('/auth/me', rotated.body.accessToken)).status).toBe(200);

      const reused = await http.post('/auth/refresh', { refreshToken: first.refreshToken });
      expect(reused.status).toBe(401);
      expect(
        (await http.post('/auth/refresh', { refreshToken: rotated.body.refreshToken })).status,
      ).toBe(401);
      expect((await http.get('/auth/me', rotated.body.accessToken)).status).toBe(401);
      expect((await http.get('/auth/me', first.accessToken)).status).toBe(401);
      expect((await http.post('/auth/refresh', { refreshToken: 'x'.repeat(43) })).status).toBe(401);
    });

    it('should kill the access token and its session everywhere on logout', async () => {
      const session = await login(alice.email, alice.password);
      expect((await http.get('/orders', session.accessToken)).status).toBe(200);
      const out = await http.post('/auth/logout', {}, session.accessToken);
      expect(out.status).toBe(204);
      expect((await http.get('/auth/me', session.accessToken)).status).toBe(401);
      expect((await http.get('/orders', session.accessToken)).status).toBe(401);
      expect((await natsRequest(nc, 'orders.list', {}, session.accessToken)).err).toMatchObject({
        statusCode: 401,
      });
      expect((await natsRequest(nc, 'profile.get', {}, session.accessToken)).err).toMatchObject({
        statusCode: 401,
      });
      expect(
        (await http.post('/auth/refresh', { refreshToken: session.refreshToken })).status,
      ).toBe(401);
      // other sessions of the same user live on
      expect((await http.get('/auth/me', aliceToken)).status).toBe(200);
    });

    it('should refuse a user’s earlier tokens once an admin changes their roles', async () => {
      const before = await login(bob.email, bob.password);
      expect(
        (await http.put(`/admin/users/${aliceId}/roles`, { roles: ['root'] }, adminToken)).status,
      ).toBe(400);
      expect(
        (await http.put(`/admin/users/${aliceId}/roles`, { roles: ['admin'] }, bobToken)).status,
      ).toBe(403);
      const unknown = await http.put(
        '/admin/users/7d3c1f3e-33a1-4d44-9a44-1f0d4c1c9c11/roles',
        { roles: ['admin'] },
        adminToken,
      );
      expect(unknown.status).toBe(404);
      const bobId = TokenFactory.decode(before.accessToken).claims['sub'];
      const res = await http.put(
        `/admin/users/${String(bobId)}/roles`,
        { roles: ['user', 'admin'] },
        adminToken,
      );
      expect(res.status).toBe(200);
      expect(res.body.roles).toEqual(expect.arrayContaining(['user', 'admin']));
      // the role change is written before the response; give the watchers a moment, then check every hop
      expect((await http.get('/auth/me', before.accessToken)).status).toBe(401);
      expect((await natsRequest(nc, 'orders.list', {}, before.accessToken)).err).toMatchObject({
        statusCode: 401,
      });
      const after = await login(bob.email, bob.password);
      expect(TokenFactory.decode(after.accessToken).claims['roles']).toEqual(
        expect.arrayContaining(['admin']),
      );
      expect((await http.get('/admin/audit?limit=1', after.accessToken)).status).toBe(200);
    });

    it('should keep old tokens valid across gateway → orders → profile after a key rotation', async () => {
      const old = await login(alice.email, alice.password);
      const oldKid = TokenFactory.decode(old.accessToken).header['kid'];
      expect((await http.post('/admin/keys/rotate', {}, aliceToken)).status).toBe(403);
      const rotated = await http.post('/admin/keys/rotate', {}, adminToken);
      expect(rotated.status).toBe(201);
      expect(rotated.body.kid).not.toBe(oldKid);
      const fresh = await login(alice.email, alice.password);
      expect(TokenFactory.decode(fresh.accessToken).header['kid']).toBe(rotated.body.kid);
      for (const token of [old.accessToken, fresh.accessToken]) {
        const order = await http.post(
          '/orders',
          { items: [{ sku: 'ROT-1', quantity: 1, unitPrice: 1 }] },
          token,
        );
        expect(order.status).toBe(201);
        expect(order.body.shippingAddress).toBe('1 Relay Road, Baton Rouge');
      }
      const jwks = await http.get('/.well-known/jwks.json');
      expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual(
        expect.arrayContaining([oldKid, rotated.body.kid]),
      );
      // the retired key signs no more: its private key is erased, and only the new one keeps its
      expect(await privateKeyOf(oldKid)).toBe('');
      expect(await privateKeyOf(rotated.body.kid)).toContain('PRIVATE KEY');
    });

    it('should revoke every session of a user on POST /admin/users/:id/revoke', async () => {
      const session = await login(alice.email, alice.password);
      expect((await http.post(`/admin/users/${aliceId}/revoke`, {}, bobToken)).status).toBe(401);
      const res = await http.post(`/admin/users/${aliceId}/revoke`, {}, adminToken);
      expect(res.status).toBe(204);
      expect((await http.get('/auth/me', session.accessToken)).status).toBe(401);
      expect((await natsRequest(nc, 'profile.get', {}, session.accessToken)).err).toMatchObject({
        statusCode: 401,
      });
    });
  });

  describe('the actor of every audit event', () => {
    interface AuditEvent {
      type: string;
      userId: string | null;
      actorId: string | null;
      sessionId: string | null;
      detail: Record<string, unknown> | null;
    }
    const audit = async (query: string): Promise<AuditEvent[]> => {
      const res = await http.get(`/admin/audit?${query}`, adminToken);
      expect(res.status).toBe(200);
      return res.body as AuditEvent[];
    };
    const subOf = (token: string) => String(TokenFactory.decode(token).claims['sub']);

    it('should record the acting admin, not only the target user, of role changes, revocations and key rotations', async () => {
      // two admins, so that the log has to tell them apart: the first admin, and bob, made one above
      const adminId = subOf(adminToken);
      const bobAdmin = (await login(bob.email, bob.password)).accessToken;
      const bobId = subOf(bobAdmin);
      expect(TokenFactory.decode(bobAdmin).claims['roles']).toContain('admin');

      const roles = await http.put(`/admin/users/${aliceId}/roles`, { roles: ['user'] }, bobAdmin);
      expect(roles.status).toBe(200);
      expect((await http.post(`/admin/users/${aliceId}/revoke`, {}, adminToken)).status).toBe(204);
      const rotated = await http.post('/admin/keys/rotate', {}, bobAdmin);
      expect(rotated.status).toBe(201);

      const [changed] = await audit(`type=roles.changed&userId=${aliceId}&limit=1`);
      expect(changed).toMatchObject({ userId: aliceId, actorId: bobId });
      const [revoked] = await audit(`type=user.revoked&userId=${aliceId}&limit=1`);
      expect(revoked).toMatchObject({ userId: aliceId, actorId: adminId });
      const [rotation] = await audit('type=keys.rotated&limit=1');
      expect(rotation).toMatchObject({
        userId: null,
        actorId: bobId,
        detail: { kid: rotated.body.kid },
      });
      // the role change that made bob an admin, made earlier by the first admin
      const [promoted] = await audit(`type=roles.changed&userId=${bobId}&limit=1`);
      expect(promoted).toMatchObject({ userId: bobId, actorId: adminId });
    });

    it('should filter by actor, alone and with the other filters', async () => {
      const bobId = subOf(bobToken);
      const byBob = await audit(`actorId=${bobId}&limit=500`);
      expect(byBob.length).toBeGreaterThan(0);
      expect(byBob.every((e) => e.actorId === bobId)).toBe(true);
      expect(byBob.map((e) => e.type)).toEqual(
        expect.arrayContaining(['roles.changed', 'keys.rotated', 'login.succeeded']),
      );
      const bobOnAlice = await audit(`actorId=${bobId}&userId=${aliceId}&type=roles.changed`);
      expect(bobOnAlice.length).toBeGreaterThan(0);
      expect(
        bobOnAlice.every(
          (e) => e.actorId === bobId && e.userId === aliceId && e.type === 'roles.changed',
        ),
      ).toBe(true);
      expect(await audit('actorId=svc:nobody')).toEqual([]);
      for (const bad of ['not-an-id', 'svc:', 'SVC:orders', `${bobId}x`]) {
        const res = await http.get(`/admin/audit?actorId=${encodeURIComponent(bad)}`, adminToken);
        expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
      }
    });

    it('should record users as the actors of their own login, refresh and logout, and no one for registration or a failed login', async () => {
      const session = await login(alice.email, alice.password);
      const sid = String(TokenFactory.decode(session.accessToken).claims['sid']);
      const refreshed = await http.post('/auth/refresh', { refreshToken: session.refreshToken });
      expect(refreshed.status).toBe(200);
      expect((await http.post('/auth/logout', {}, refreshed.body.accessToken)).status).toBe(204);

      const events = await audit(`userId=${aliceId}&limit=500`);
      const newest = (type: string) => events.find((e) => e.type === type);
      expect(newest('logout')).toMatchObject({ actorId: aliceId, sessionId: sid });
      expect(newest('token.refreshed')).toMatchObject({ actorId: aliceId, sessionId: sid });
      expect(newest('login.succeeded')).toMatchObject({ actorId: aliceId });
      expect(newest('user.registered')).toMatchObject({ actorId: null });
      // a wrong password for alice's account and an unknown email: no one was authenticated
      expect(newest('login.failed')).toMatchObject({ actorId: null });
      const failed = await audit('type=login.failed&limit=500');
      expect(failed.some((e) => e.userId === null)).toBe(true);
      expect(failed.every((e) => e.actorId === null)).toBe(true);
    });

    it('should take the actor from the verified token only, never from a request body', async () => {
      const adminId = subOf(adminToken);
      const forged = { actorId: aliceId };
      const setRoles = await http.put(
        `/admin/users/${aliceId}/roles`,
        { roles: ['user'], ...forged },
        adminToken,
      );
      expect(setRoles.status).toBe(400);
      expect(setRoles.body.message).toContain('actorId should not exist');
      for (const [path, body, token] of [
        ['/auth/login', { email: alice.email, password: alice.password, ...forged }, undefined],
        ['/auth/logout', forged, (await login(alice.email, alice.password)).accessToken],
        [`/admin/users/${aliceId}/revoke`, forged, adminToken],
        ['/admin/keys/rotate', forged, adminToken],
        ['/admin/keys/rotate', [forged], adminToken],
      ] as const) {
        const res = await http.post(path, body, token);
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
      }
      // one step behind the gateway: a raw NATS message with an admin's token
      const raw = await natsRequest(
        nc,
        'auth.admin.set-roles',
        { id: aliceId, roles: ['user'], ...forged },
        adminToken,
      );
      expect(raw.err).toMatchObject({ statusCode: 400 });
      const rotated = await natsRequest(nc, 'auth.admin.rotate-keys', forged, adminToken);
      expect(rotated.err ?? undefined).toBeUndefined();
      const [rotation] = await audit('type=keys.rotated&limit=1');
      expect(rotation).toMatchObject({ actorId: adminId, detail: { kid: rotated.response.kid } });
      expect(await audit(`actorId=${aliceId}&type=keys.rotated`)).toEqual([]);
      expect(await audit(`actorId=${aliceId}&type=roles.changed`)).toEqual([]);
      expect(await audit(`actorId=${aliceId}&type=user.revoked`)).toEqual([]);
    });
  });

  describe('health and failures', () => {
    it('should report every dependency up on /health', async () => {
      const res = await http.get('/health');
      expect(res.status).toBe(200);
      expect(res.body.checks).toEqual({ nats: 'up', auth: 'up', orders: 'up', profile: 'up' });
    });

    it('should answer 503, not 500, while a service is down, and recover when it returns', async () => {
      const session = await login(alice.email, alice.password);
      await system.stop('orders');
      const down = await http.get('/orders', session.accessToken);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      expect((await http.get('/health')).status).toBe(503);
      await system.start('orders');
      expect((await http.get('/orders', session.accessToken)).status).toBe(200);
    });
  });
});
