import { Subjects } from '@baton/contracts';
import {
  createTestDatabase,
  holdStore,
  HttpClient,
  queryServiceDb,
  startNatsServer,
  startSystem,
} from '@baton/testing';
import type { NatsServerHandle, RunningSystem, TestDatabase } from '@baton/testing';

/*
 * Replicas started at the same moment on an empty store (SQLite files, or PostgreSQL when
 * DATABASE_URL is set). The harness spawns a service's replicas together; the store is held shut
 * until both auth processes stand at it, then released, so that they go through their start-up on
 * the store (schema, migrations, first signing key, first admin) at the same moment.
 */
describe('two auth replicas starting at once on an empty store', () => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let system: RunningSystem;

  beforeAll(async () => {
    nats = await startNatsServer();
    db = await createTestDatabase();
    const gate = await holdStore(db, 'auth');
    const starting = startSystem({ natsUrl: nats.url, storeEnv: db.env, replicas: { auth: 2 } });
    try {
      await Promise.race([gate.waiting(2), starting]);
    } finally {
      await gate.release();
    }
    system = await starting;
  });

  afterAll(async () => {
    await system?.stop();
    await nats?.stop();
    await db?.drop();
  });

  it('should bring both replicas up at the first attempt', () => {
    expect(system.pid('auth', 0)).toBeDefined();
    expect(system.pid('auth', 1)).toBeDefined();
    // @nestjs/typeorm retries a store that failed to open (after 3 s), which would hide a lost race
    const logs = system.logs.auth.join('');
    expect(logs).not.toContain('Unable to connect to the database');
    expect(logs).not.toMatch(/already exists|duplicate key/i);
  });

  it('should run each migration once', async () => {
    const rows = await queryServiceDb<{ name: string }>(
      db,
      'auth',
      'SELECT name FROM migrations ORDER BY id',
    );
    expect(rows.map((r) => r.name)).toEqual([
      'InitialAuthSchema1732300000000',
      'AuditEventActor1732400000000',
      'OneCurrentSigningKey1795397271517',
      'LoginThrottle1796416875909',
      'EraseRetiredPrivateKeys1796419145507',
    ]);
  });

  it('should create exactly one signing key, and make it current', async () => {
    const rows = await queryServiceDb(db, 'auth', 'SELECT kid, retired_at FROM signing_keys');
    expect(rows).toEqual([{ kid: expect.any(String), retired_at: null }]);
  });

  it('should create the first admin exactly once', async () => {
    const rows = await queryServiceDb(db, 'auth', 'SELECT email, roles FROM users');
    expect(rows).toEqual([{ email: system.admin.email, roles: 'user,admin' }]);
  });

  it('should say so once, from one replica', () => {
    const said = (text: string) => system.logs.auth.join('').split(text).length - 1;
    expect(said('created a RS256 signing key')).toBe(1);
    expect(said('created the first admin account')).toBe(1);
  });

  it("should count an account's failed logins once across both replicas, and refuse it at each", async () => {
    const http = new HttpClient(system.gatewayUrl);
    const victim = { email: 'shared-throttle@example.test', password: 'victim-password-12' };
    expect((await http.post('/auth/register', victim)).status).toBe(201);
    const failures: number[] = [];
    for (let i = 0; i < 6; i++) {
      failures.push(
        (await http.post('/auth/login', { email: victim.email, password: 'not-the-password' }))
          .status,
      );
    }
    // Each replica alone has seen about half of these six, fewer than its five free failures.
    expect(failures).toEqual([401, 401, 401, 401, 401, 401]);

    // The queue group spreads logins over the replicas at random: try until both have refused one.
    const refusedBy = new Set<number>();
    const statuses: number[] = [];
    for (let i = 0; i < 20 && refusedBy.size < 2; i++) {
      statuses.push((await http.post('/auth/login', victim)).status);
      for (const line of system.logs.auth.join('').split('\n')) {
        const entry = /^\{.*\}$/.test(line) ? (JSON.parse(line) as Record<string, unknown>) : {};
        if (entry['subject'] === Subjects.auth.login && entry['statusCode'] === 429) {
          refusedBy.add(Number(entry['pid']));
        }
      }
    }

    expect(new Set(statuses)).toEqual(new Set([429]));
    expect(refusedBy).toEqual(new Set([system.pid('auth', 0), system.pid('auth', 1)]));
  });

  it('should allow ten registrations per address, whichever replica takes them, then answer 429 with Retry-After', async () => {
    const http = new HttpClient(system.gatewayUrl);
    const registered = async () =>
      (
        await queryServiceDb(
          db,
          'auth',
          "SELECT id FROM audit_events WHERE type = 'user.registered'",
        )
      ).length;
    const before = await registered(); // earlier tests here registered from this address too
    const statuses: number[] = [];
    for (let i = 0; i < 15 && !statuses.includes(429); i++) {
      const account = { email: `newcomer-${i}@example.test`, password: 'newcomer-password' };
      statuses.push((await http.post('/auth/register', account)).status);
    }

    expect(statuses.at(-1)).toBe(429);
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set([201]));
    expect(before + statuses.length - 1).toBe(10);
    expect(await registered()).toBe(10);
    const refused = await http.post('/auth/register', {
      email: 'one-more@example.test',
      password: 'newcomer-password',
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(890);
    expect(refused.body).toMatchObject({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Too many registrations from this address; try again later',
    });
    const audited = await queryServiceDb<{ type: string }>(
      db,
      'auth',
      "SELECT type FROM audit_events WHERE type = 'register.throttled'",
    );
    expect(audited).toHaveLength(2);
  });
});
