import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { runInCallContext } from '@baton/auth';
import type { Principal } from '@baton/auth';
import { openDataSource, resolveStore } from '@baton/persistence';
import type { StoreConfig } from '@baton/persistence';
import { createTestDatabase } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';
import { AuditService } from '../audit/audit.service';
import { AUTH_ENTITIES, AuditEventEntity } from '../entities';
import { InitialAuthSchema1732300000000 } from './1732300000000-initial-auth-schema';
import { AuditEventActor1732400000000 } from './1732400000000-audit-event-actor';

/*
 * The actor column added to a store that already holds events, on the real store (SQLite, or
 * PostgreSQL when DATABASE_URL is set), then written, read and filtered by the audit service.
 */

const admin: Principal = {
  sub: randomUUID(),
  roles: ['user', 'admin'],
  sid: randomUUID(),
  jti: randomUUID(),
  iat: 1,
  exp: 2,
};
const target = randomUUID();
const earlier = { id: randomUUID(), type: 'user.revoked', user_id: target };

describe(AuditEventActor1732400000000.name, () => {
  let db: TestDatabase;
  let store: StoreConfig;
  let dataSource: DataSource;
  let sut: AuditService;
  /** The table's name for SQL written here: on PostgreSQL it lives in the service's schema. */
  let auditEvents: string;

  const auditColumns = async () => {
    const runner = dataSource.createQueryRunner();
    try {
      const table = await runner.getTable('audit_events');
      return {
        columns: table?.columns.map((c) => c.name) ?? [],
        indices: table?.indices.map((i) => i.name) ?? [],
      };
    } finally {
      await runner.release();
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    store = resolveStore('auth', db.env);
    auditEvents = store.kind === 'postgres' ? `${store.schema}.audit_events` : 'audit_events';
    // the store as the first schema left it, with an event in it (no entities: the columns of
    // today's would not fit the table of then)
    const before = await openDataSource({
      store,
      entities: [],
      migrations: [InitialAuthSchema1732300000000],
    });
    await before
      .createQueryBuilder()
      .insert()
      .into(auditEvents, ['id', 'type', 'user_id', 'created_at'])
      .values({ ...earlier, created_at: new Date(Date.now() - 60_000) })
      .execute();
    await before.destroy();
    dataSource = await openDataSource({
      store,
      entities: AUTH_ENTITIES,
      migrations: [InitialAuthSchema1732300000000, AuditEventActor1732400000000],
    });
    sut = new AuditService(dataSource.getRepository(AuditEventEntity));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('should add a nullable, indexed actor_id and leave the earlier events without an actor', async () => {
    const { columns, indices } = await auditColumns();
    expect(columns).toContain('actor_id');
    expect(indices).toContain('ix_audit_events_actor_id');
    const [event] = await sut.query({ userId: target });
    expect(event).toMatchObject({ id: earlier.id, type: 'user.revoked', actorId: null });
  });

  it("should record the verified caller of the message as the actor, and no one outside a call's context", async () => {
    await runInCallContext({ requestId: 'req-admin-1', principal: admin }, () =>
      sut.record({ type: 'roles.changed', userId: target, detail: { before: [], after: [] } }),
    );
    await runInCallContext({ requestId: 'req-public-1' }, () =>
      sut.record({ type: 'login.failed', userId: target }),
    );
    await sut.record({ type: 'login.succeeded', userId: target, actorId: target });

    // sorted by type: events written within the same millisecond have no order between them
    const events = (await sut.query({ userId: target })).sort((a, b) =>
      a.type.localeCompare(b.type),
    );
    expect(events.map((e) => [e.type, e.actorId, e.requestId])).toEqual([
      ['login.failed', null, 'req-public-1'],
      ['login.succeeded', target, null],
      ['roles.changed', admin.sub, 'req-admin-1'],
      ['user.revoked', null, null],
    ]);
  });

  it('should filter by actor, alone and with the other filters', async () => {
    expect((await sut.query({ actorId: admin.sub })).map((e) => e.type)).toEqual(['roles.changed']);
    expect(await sut.query({ actorId: admin.sub, type: 'login.succeeded' })).toEqual([]);
    expect(
      (await sut.query({ actorId: target, userId: target, type: 'login.succeeded' })).length,
    ).toBe(1);
  });

  it('should be undone without losing events, and applied again', async () => {
    await dataSource.undoLastMigration();
    const undone = await auditColumns();
    expect(undone.columns).not.toContain('actor_id');
    expect(undone.indices).not.toContain('ix_audit_events_actor_id');
    const [{ n }] = await dataSource.query<{ n: number | string }[]>(
      `SELECT COUNT(*) AS n FROM ${auditEvents}`,
    );
    expect(Number(n)).toBe(4);

    await dataSource.runMigrations();
    expect((await auditColumns()).columns).toContain('actor_id');
    expect((await sut.query({ userId: target })).every((e) => e.actorId === null)).toBe(true);
  });
});
