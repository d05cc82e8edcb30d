import {
  createTestDatabase,
  HttpClient,
  queryServiceDb,
  startNatsServer,
  startSystem,
  TokenFactory,
  updateServiceDb,
} from '@baton/testing';
import type { NatsServerHandle, RunningSystem, TestDatabase } from '@baton/testing';
import { Events } from '@baton/contracts';
import { connect } from 'nats';

/**
 * The algorithms `JWT_ALG` offers besides the default RS256 (which every other suite runs on):
 * auth signs with ES256 or EdDSA, publishes the key, and every hop verifies the tokens. Restarted
 * with another algorithm, auth makes a key of it current and the tokens signed before keep working
 * until they expire.
 */
describe('Signing algorithms (JWT_ALG)', () => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let system: RunningSystem;
  let http: HttpClient;
  const authEnv: Record<string, string> = { JWT_ALG: 'ES256' };
  const user = { email: 'algorithms@example.test', password: 'a long passphrase' };

  interface PublishedKey {
    kid: string;
    alg: string;
    kty: string;
    crv?: string;
    d?: string;
  }

  const login = async (): Promise<string> => {
    const res = await http.post('/auth/login', user);
    expect(res.status).toBe(200);
    return res.body.accessToken as string;
  };
  const publishedKeys = async (): Promise<PublishedKey[]> =>
    (await http.get('/.well-known/jwks.json')).body.keys as PublishedKey[];

  /** `GET /auth/me` and an order (gateway → orders → profile) with `token`, once keys have spread. */
  const usableEverywhere = async (token: string): Promise<void> => {
    // A kid a service has not seen makes it fetch the JWKS again (at most once per interval).
    let me = await http.get('/auth/me', token);
    for (let i = 0; i < 75 && me.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 200));
      me = await http.get('/auth/me', token);
    }
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: user.email });
    const order = await http.post(
      '/orders',
      { items: [{ sku: 'ALG-1', quantity: 1, unitPrice: 2 }] },
      token,
    );
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({ shippingAddress: '1 Curve Close' });
  };

  /**
   * Listens for the next `auth.keys.rotated` event: `data` is its data, or a note saying none came
   * within 10 s.
   */
  const nextKeyAnnouncement = async (): Promise<{ data: Promise<unknown> }> => {
    const nc = await connect({ servers: nats.url });
    const announced = new Promise<unknown>((resolve) => {
      nc.subscribe(Events.keysRotated, {
        max: 1,
        callback: (_err, msg) => resolve((JSON.parse(msg.string()) as { data: unknown }).data),
      });
      setTimeout(() => resolve('no rotation announced in 10 s'), 10_000).unref();
    });
    await nc.flush();
    return { data: announced.finally(() => nc.close()) };
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    db = await createTestDatabase();
    system = await startSystem({
      natsUrl: nats.url,
      storeEnv: db.env,
      serviceEnv: { auth: authEnv },
    });
    http = new HttpClient(system.gatewayUrl);
    expect((await http.post('/auth/register', user)).status).toBe(201);
  });

  afterAll(async () => {
    await system?.stop();
    await nats?.stop();
    await db?.drop();
  });

  let es256Token: string;

  it('should sign ES256 tokens with a published P-256 key that every hop verifies', async () => {
    es256Token = await login();
    const { header } = TokenFactory.decode(es256Token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    const keys = await publishedKeys();
    expect(keys).toEqual([
      expect.objectContaining({ kid: header['kid'], alg: 'ES256', kty: 'EC', crv: 'P-256' }),
    ]);
    expect(keys.some((k) => 'd' in k)).toBe(false);
    expect(
      (await http.patch('/profile/me', { shippingAddress: '1 Curve Close' }, es256Token)).status,
    ).toBe(200);
    await usableEverywhere(es256Token);
  });

  it('should switch to EdDSA on restart, publishing an Ed25519 key beside the retired one', async () => {
    // Auth announces the new key as it would a rotation, so the other services fetch it at once.
    const announcement = await nextKeyAnnouncement();
    authEnv['JWT_ALG'] = 'EdDSA';
    await system.stop('auth');
    await system.start('auth');
    await system.healthy();

    const edToken = await login();
    const { header } = TokenFactory.decode(edToken);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(await announcement.data).toEqual({ kid: header['kid'] });
    const keys = await publishedKeys();
    expect(keys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kid: header['kid'], alg: 'EdDSA', kty: 'OKP', crv: 'Ed25519' }),
        expect.objectContaining({
          kid: TokenFactory.decode(es256Token).header['kid'],
          alg: 'ES256',
        }),
      ]),
    );
    expect(keys.some((k) => 'd' in k)).toBe(false);
    // the ES256 key is retired: its public JWK verifies what it signed, its private key is gone
    const rows = await queryServiceDb<{ alg: string; private_key: string; retired_at: unknown }>(
      db,
      'auth',
      'SELECT alg, private_key, retired_at FROM signing_keys ORDER BY created_at',
    );
    expect(rows.map((r) => [r.alg, r.retired_at === null, r.private_key === ''])).toEqual([
      ['ES256', false, true],
      ['EdDSA', true, false],
    ]);

    await usableEverywhere(edToken);
    // Signed before the switch, still within its lifetime: still good at every hop.
    await usableEverywhere(es256Token);
  });

  it('should refuse an EdDSA token whose signature is not its own, or whose header claims another algorithm', async () => {
    const edToken = await login();
    const [h, p, sig] = edToken.split('.');
    const flipped = Buffer.from(sig, 'base64url');
    flipped[0] ^= 1;
    const asEs256 = Buffer.from(
      JSON.stringify({ ...TokenFactory.decode(edToken).header, alg: 'ES256' }),
    ).toString('base64url');

    for (const forged of [`${h}.${p}.${flipped.toString('base64url')}`, `${asEs256}.${p}.${sig}`]) {
      const res = await http.get('/auth/me', forged);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({
        statusCode: 401,
        message: 'Invalid or missing access token',
      });
    }
  });

  it('should refuse to start auth with an algorithm it does not offer', async () => {
    authEnv['JWT_ALG'] = 'HS256';
    await system.stop('auth');
    await expect(system.start('auth')).rejects.toThrow();
    expect(system.logs.auth.join('')).toContain('JWT_ALG must be RS256, ES256 or EdDSA');
    authEnv['JWT_ALG'] = 'EdDSA';
    await system.start('auth');
  });

  it('should replace a key KEY_ROTATION_DAYS old when auth starts, announce it, and keep its tokens good', async () => {
    const before = await login();
    const oldKid = TokenFactory.decode(before).header['kid'];
    await system.stop('auth');
    const madeAt = new Date(Date.now() - 91 * 86_400_000);
    // TypeORM's own format for SQLite datetime columns
    const stored =
      db.kind === 'sqlite' ? madeAt.toISOString().replace('T', ' ').slice(0, -1) : madeAt;
    expect(
      await updateServiceDb(
        db,
        'auth',
        'UPDATE signing_keys SET created_at = $1 WHERE retired_at IS NULL',
        [stored],
      ),
    ).toBe(1);
    const next = await nextKeyAnnouncement();

    await system.start('auth');
    await system.healthy();

    const announced = await next.data;
    expect(announced).toEqual({ kid: expect.any(String) });
    const { kid } = announced as { kid: string };
    expect(kid).not.toBe(oldKid);
    const after = await login();
    expect(TokenFactory.decode(after).header['kid']).toBe(kid);
    expect((await publishedKeys()).map((k) => k.kid)).toEqual(
      expect.arrayContaining([oldKid, kid]),
    );
    await usableEverywhere(after);
    await usableEverywhere(before);
    const audited = await queryServiceDb<{ detail: string }>(
      db,
      'auth',
      "SELECT detail FROM audit_events WHERE type = 'keys.rotated'",
    );
    expect(audited.map((e) => JSON.parse(String(e.detail)) as unknown)).toContainEqual({
      kid,
      scheduled: true,
    });
    expect(system.logs.auth.join('')).toContain('days old (KEY_ROTATION_DAYS)');
  });
});
