import { randomUUID } from 'node:crypto';
import type { DataSource, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { AuditEventType, AuditEventView } from '@baton/contracts';
import { openDataSource, resolveStore } from '@baton/persistence';
import { createTestDatabase } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';
import { AuditEventEntity } from '../entities';
import { InitialAuthSchema1732300000000 } from '../migrations/1732300000000-initial-auth-schema';
import { AuditEventActor1732400000000 } from '../migrations/1732400000000-audit-event-actor';
import { AuditService } from './audit.service';

/* Reading the log on the real store (SQLite, or PostgreSQL when DATABASE_URL is set). */

describe(AuditService.name, () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let events: Repository<AuditEventEntity>;
  let sut: AuditService;
  const t0 = Date.parse('2026-12-04T12:00:00.000Z');

  /** 25 events: 12 that share one time (as a burst of logins in one millisecond would), then 13 apart. */
  const seed = async () => {
    const rows: AuditEventEntity[] = [];
    for (let i = 0; i < 25; i++) {
      rows.push(
        events.create({
          id: randomUUID(),
          type: (i % 3 === 0 ? 'login.failed' : 'login.succeeded') as AuditEventType,
          userId: null,
          actorId: null,
          sessionId: null,
          requestId: `req-${i}`,
          clientIp: null,
          detail: null,
          createdAt: new Date(i < 12 ? t0 : t0 + (i - 11) * 1000),
        }),
      );
    }
    await events.insert(rows as QueryDeepPartialEntity<AuditEventEntity>[]);
    return rows;
  };
  /** Every page of `query`, following `before` from each page's last event. */
  const allPages = async (query: Record<string, string | number>) => {
    const pages: AuditEventView[][] = [];
    let before: string | undefined;
    for (let n = 0; n < 20; n++) {
      const page = await sut.query({ ...query, ...(before ? { before } : {}) });
      if (page.length === 0) {
        break;
      }
      pages.push(page);
      before = page[page.length - 1].id;
    }
    return pages;
  };
  const newestFirst = (rows: AuditEventEntity[]) =>
    [...rows]
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      .map((r) => r.id);

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await openDataSource({
      store: resolveStore('auth', db.env),
      entities: [AuditEventEntity],
      migrations: [InitialAuthSchema1732300000000, AuditEventActor1732400000000],
    });
    events = dataSource.getRepository(AuditEventEntity);
    sut = new AuditService(events);
  });

  beforeEach(() => events.clear());

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('should page through every event once, newest first, however many share a time', async () => {
    const rows = await seed();

    const pages = await allPages({ limit: 10 });

    expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
    const ids = pages.flat().map((e) => e.id);
    expect(new Set(ids).size).toBe(25);
    expect(ids).toHaveLength(25);
    expect(ids).toEqual(newestFirst(rows));
    const times = pages.flat().map((e) => Date.parse(e.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('should page within the filters and from `since` on', async () => {
    const rows = await seed();
    const since = new Date(t0 + 5_000);

    const pages = await allPages({ limit: 2, type: 'login.succeeded', since: since.toISOString() });

    const expected = rows.filter((r) => r.type === 'login.succeeded' && r.createdAt >= since);
    expect(pages.flat().map((e) => e.id)).toEqual(newestFirst(expected));
    expect(pages.every((page) => page.length <= 2)).toBe(true);
  });

  it('should take `since` alone as a lower bound, included', async () => {
    await seed();

    const page = await sut.query({ since: new Date(t0 + 13_000).toISOString(), limit: 500 });

    expect(page.map((e) => e.requestId)).toEqual(['req-24']);
  });

  it('should give an empty page after an event that is no longer kept', async () => {
    await seed();

    expect(await sut.query({ before: randomUUID() })).toEqual([]);
  });
});
