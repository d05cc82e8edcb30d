import { NATS_PERMISSIONS, natsPermissionsFor } from '@baton/contracts';
import {
  createTestDatabase,
  generatedServices,
  HttpClient,
  startSecureNatsServer,
  startSystem,
} from '@baton/testing';
import type { RunningSystem, SecureNatsServerHandle, TestDatabase } from '@baton/testing';

/**
 * The real system on a nats-server configured as production is: TLS with client certificates
 * required, one user per service with the permissions `npm run nats:config` generates. Every
 * service connects with its own user (NATS_USER/NATS_PASSWORD) and certificate (NATS_TLS_*), and
 * the whole flow works without one permission violation in the server's log.
 */
describe('Baton on a NATS server with TLS and per-service permissions', () => {
  let nats: SecureNatsServerHandle;
  let db: TestDatabase;
  let system: RunningSystem;
  let http: HttpClient;
  const services = [...Object.keys(NATS_PERMISSIONS), ...generatedServices()];

  beforeAll(async () => {
    nats = await startSecureNatsServer({
      permissions: Object.fromEntries(services.map((s) => [s, natsPermissionsFor(s)])),
    });
    db = await createTestDatabase();
    system = await startSystem({
      natsUrl: nats.url,
      storeEnv: db.env,
      serviceEnv: Object.fromEntries(services.map((s) => [s, nats.env(s)])),
    });
    http = new HttpClient(system.gatewayUrl);
  });

  afterAll(async () => {
    await system?.stop();
    await nats?.stop();
    await db?.drop();
  });

  it('should register, log in, keep a profile, place an order and log out over TLS', async () => {
    const user = { email: 'tls@example.test', password: 'a long passphrase', displayName: 'T' };
    expect((await http.post('/auth/register', user)).status).toBe(201);
    const login = await http.post('/auth/login', { email: user.email, password: user.password });
    expect(login.status).toBe(200);
    const token = login.body.accessToken as string;

    const profile = await http.patch('/profile/me', { shippingAddress: '1 Relay Road' }, token);
    expect(profile.status).toBe(200);
    // gateway → orders → profile (as the user), each hop with its own NATS user
    const order = await http.post(
      '/orders',
      { items: [{ sku: 'BATON-1', quantity: 2, unitPrice: 12.5 }] },
      token,
    );
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({ total: 25, shippingAddress: '1 Relay Road' });

    // auth writes the revocation to the bucket; the gateway and the services read it
    expect((await http.post('/auth/logout', {}, token)).status).toBe(204);
    expect((await http.get('/orders', token)).status).toBe(401);
    expect((await http.get('/health')).status).toBe(200);
  });

  it('should rotate the signing keys: auth announces it, the others fetch the new JWKS', async () => {
    const admin = await http.post('/auth/login', system.admin);
    expect(admin.status).toBe(200);
    expect((await http.post('/admin/keys/rotate', {}, admin.body.accessToken)).status).toBe(201);

    const user = { email: 'rotated@example.test', password: 'another long passphrase' };
    expect((await http.post('/auth/register', user)).status).toBe(201);
    const login = await http.post('/auth/login', user);
    // signed with the new key: the gateway and orders verify it with the JWKS they fetch from auth
    expect((await http.get('/orders', login.body.accessToken)).status).toBe(200);
  });

  it('should have connected every service over TLS as its own user', async () => {
    const res = await fetch(`${nats.monitorUrl}/connz?auth=true&limit=1000`);
    const { connections } = (await res.json()) as {
      connections: Array<{ name?: string; authorized_user?: string; tls_version?: string }>;
    };

    // Each process has a client connection (`<service>-client`); the NATS services a server one too.
    const seen = connections.map(
      (c) => `${c.name} as ${c.authorized_user} over TLS ${c.tls_version}`,
    );
    const expected = services.flatMap((s) => [
      `${s}-client as ${s} over TLS 1.3`,
      ...(s === 'gateway' ? [] : [`${s}-server as ${s} over TLS 1.3`]),
    ]);
    expect(seen.sort()).toEqual(expected.sort());
  });

  it('should not have needed anything the permissions refuse', () => {
    expect(nats.logs()).not.toMatch(/Violation/);
    // the server really required TLS of every client
    expect(nats.logs()).toContain('TLS required for client connections');
  });
});
