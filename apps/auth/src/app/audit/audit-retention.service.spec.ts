import { randomUUID } from 'node:crypto';
import type { DataSource, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { openDataSource, resolveStore } from '@baton/persistence';
import { createTestDatabase } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';
import { loadAuthServiceEnv } from '../auth.env';
import { AuditEventEntity } from '../entities';
import { InitialAuthSchema1732300000000 } from '../migrations/1732300000000-initial-auth-schema';
import { AuditEventActor1732400000000 } from '../migrations/1732400000000-audit-event-actor';
import { AuditRetention, PRUNE_BATCH } from './audit-retention.service';

/* Retention on the real store (SQLite, or PostgreSQL when DATABASE_URL is set). */

const DAY_MS = 86_400_000;

describe(AuditRetention.name, () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let events: Repository<AuditEventEntity>;
  const now = Date.parse('2026-12-04T12:00:00.000Z');

  const retention = (days: string) =>
    new AuditRetention(events, loadAuthServiceEnv({ AUDIT_RETENTION_DAYS: days }));
  const insert = async (count: number, createdAt: Date) => {
    const rows = Array.from({ length: count }, () =>
      events.create({
        id: randomUUID(),
        type: 'login.failed',
        userId: null,
        actorId: null,
        sessionId: null,
        requestId: null,
        clientIp: null,
        detail: null,
        createdAt,
      }),
    );
    for (let i = 0; i < rows.length; i += 500) {
      await events.insert(rows.slice(i, i + 500) as QueryDeepPartialEntity<AuditEventEntity>[]);
    }
  };
  const untilNoneOlderThan = async (date: Date) => {
    for (let tries = 0; tries < 100; tries++) {
      if (!(await oldestBefore(date))) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const oldestBefore = async (date: Date) =>
    (await events.find({ order: { createdAt: 'ASC' }, take: 1 }))[0]?.createdAt < date;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await openDataSource({
      store: resolveStore('auth', db.env),
      entities: [AuditEventEntity],
      migrations: [InitialAuthSchema1732300000000, AuditEventActor1732400000000],
    });
    events = dataSource.getRepository(AuditEventEntity);
  });

  beforeEach(() => events.clear());

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('should delete every event older than the retention, in batches, and keep the rest', async () => {
    const old = 2 * PRUNE_BATCH + 345;
    await insert(old, new Date(now - 31 * DAY_MS));
    await insert(3, new Date(now - 30 * DAY_MS));
    await insert(7, new Date(now - 29 * DAY_MS));

    const deleted = await retention('30').prune(now);

    expect(deleted).toBe(old);
    expect(await events.countBy({})).toBe(10);
    expect(await oldestBefore(new Date(now - 30 * DAY_MS))).toBe(false);
  });

  it('should prune once at start, in the background, and stop after the statement under way', async () => {
    await insert(5 * PRUNE_BATCH, new Date(Date.now() - 400 * DAY_MS));
    const sut = retention('365');

    sut.onApplicationBootstrap();
    await sut.onModuleDestroy();

    // the first batch was under way when it was asked to stop
    expect(await events.countBy({})).toBe(4 * PRUNE_BATCH);
  });

  it('should finish the pruning it started at start', async () => {
    await insert(3 * PRUNE_BATCH, new Date(Date.now() - 400 * DAY_MS));
    await insert(2, new Date(Date.now() - 10 * DAY_MS));
    const sut = retention('365');

    sut.onApplicationBootstrap();
    await untilNoneOlderThan(new Date(Date.now() - 365 * DAY_MS));
    await sut.onModuleDestroy();

    expect(await events.countBy({})).toBe(2);
  });

  it('should keep every event when the retention is 0', async () => {
    await insert(3, new Date(now - 10_000 * DAY_MS));
    const sut = retention('0');
    const prune = jest.spyOn(sut, 'prune');

    sut.onApplicationBootstrap();
    await sut.onModuleDestroy();

    expect(prune).not.toHaveBeenCalled();
    expect(await events.countBy({})).toBe(3);
  });

  it('should keep events for a year unless told otherwise, and refuse a retention that is not a whole number of days', () => {
    expect(loadAuthServiceEnv({}).AUDIT_RETENTION_DAYS).toBe(365);
    for (const bad of ['-1', '1.5', 'forever', '36501']) {
      expect(() => loadAuthServiceEnv({ AUDIT_RETENTION_DAYS: bad })).toThrow(
        /Invalid configuration:[\s\S]*AUDIT_RETENTION_DAYS/,
      );
    }
  });
});
