import {
  createTestDatabase,
  holdStore,
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
});
