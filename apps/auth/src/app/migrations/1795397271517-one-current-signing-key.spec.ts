import { IsNull, QueryFailedError } from 'typeorm';
import type { DataSource, Repository } from 'typeorm';
import { openDataSource, resolveStore, runInTransaction } from '@baton/persistence';
import { createTestDatabase } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';
import { SigningKeyEntity } from '../entities';
import { InitialAuthSchema1732300000000 } from './1732300000000-initial-auth-schema';
import { OneCurrentSigningKey1795397271517 } from './1795397271517-one-current-signing-key';

/*
 * The migration on the real store (SQLite, or PostgreSQL when DATABASE_URL is set), over a store
 * that replicas starting together left with two current keys.
 */

const key = (kid: string, createdAt: string, retiredAt: string | null): SigningKeyEntity =>
  Object.assign(new SigningKeyEntity(), {
    kid,
    alg: 'RS256',
    publicJwk: '{}',
    privateKey: 'unused',
    createdAt: new Date(createdAt),
    retiredAt: retiredAt && new Date(retiredAt),
  });

describe(OneCurrentSigningKey1795397271517.name, () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let keys: Repository<SigningKeyEntity>;
  const before = Date.now();

  beforeAll(async () => {
    db = await createTestDatabase();
    const store = resolveStore('auth', db.env);
    const entities = [SigningKeyEntity];
    const earlier = await openDataSource({
      store,
      entities,
      migrations: [InitialAuthSchema1732300000000],
    });
    await earlier
      .getRepository(SigningKeyEntity)
      .insert([
        key('retired', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
        key('older-current', '2026-01-02T00:00:00Z', null),
        key('newest-current', '2026-01-02T00:00:01Z', null),
      ]);
    await earlier.destroy();
    dataSource = await openDataSource({
      store,
      entities,
      migrations: [InitialAuthSchema1732300000000, OneCurrentSigningKey1795397271517],
    });
    keys = dataSource.getRepository(SigningKeyEntity);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('should keep the newest current key and retire the others now', async () => {
    const rows = await keys.find({ order: { kid: 'ASC' } });

    expect(rows.map((k) => [k.kid, k.retiredAt === null])).toEqual([
      ['newest-current', true],
      ['older-current', false],
      ['retired', false],
    ]);
    const retiredNow = rows.find((k) => k.kid === 'older-current')?.retiredAt as Date;
    expect(new Date(retiredNow).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(rows.find((k) => k.kid === 'retired')?.retiredAt).toEqual(
      new Date('2026-01-02T00:00:00Z'),
    );
  });

  it('should refuse a second current key', async () => {
    await expect(keys.insert(key('second', '2026-01-03T00:00:00Z', null))).rejects.toThrow(
      QueryFailedError,
    );
  });

  it('should accept a rotation: the current key retired, then a new one inserted', async () => {
    await runInTransaction(dataSource, async (tx) => {
      const repo = tx.getRepository(SigningKeyEntity);
      await repo.update({ retiredAt: IsNull() }, { retiredAt: new Date() });
      await repo.insert(key('rotated', '2026-01-03T00:00:00Z', null));
    });

    expect(await keys.findBy({ retiredAt: IsNull() })).toEqual([
      expect.objectContaining({ kid: 'rotated' }),
    ]);
  });
});
