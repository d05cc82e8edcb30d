import type { DataSource } from 'typeorm';
import { openDataSource, resolveStore } from '@baton/persistence';
import { createTestDatabase } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';
import { SigningKeyEntity } from '../entities';
import { InitialAuthSchema1732300000000 } from './1732300000000-initial-auth-schema';
import { OneCurrentSigningKey1795397271517 } from './1795397271517-one-current-signing-key';
import { EraseRetiredPrivateKeys1796419145507 } from './1796419145507-erase-retired-private-keys';

/* The migration on the real store (SQLite, or PostgreSQL when DATABASE_URL is set). */

const key = (kid: string, retiredAt: string | null): SigningKeyEntity =>
  Object.assign(new SigningKeyEntity(), {
    kid,
    alg: 'RS256',
    publicJwk: `{"kid":"${kid}"}`,
    privateKey: `-----BEGIN PRIVATE KEY----- ${kid}`,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    retiredAt: retiredAt && new Date(retiredAt),
  });

describe(EraseRetiredPrivateKeys1796419145507.name, () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  const earlierMigrations = [InitialAuthSchema1732300000000, OneCurrentSigningKey1795397271517];

  beforeAll(async () => {
    db = await createTestDatabase();
    const store = resolveStore('auth', db.env);
    const entities = [SigningKeyEntity];
    const earlier = await openDataSource({ store, entities, migrations: earlierMigrations });
    await earlier
      .getRepository(SigningKeyEntity)
      .insert([
        key('retired-1', '2026-01-02T00:00:00Z'),
        key('retired-2', '2026-01-03T00:00:00Z'),
        key('current', null),
      ]);
    await earlier.destroy();
    dataSource = await openDataSource({
      store,
      entities,
      migrations: [...earlierMigrations, EraseRetiredPrivateKeys1796419145507],
    });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it("should erase the retired keys' private keys, and keep their public keys and the current key", async () => {
    const rows = await dataSource.getRepository(SigningKeyEntity).find({ order: { kid: 'ASC' } });

    expect(rows.map((k) => [k.kid, k.privateKey, k.publicJwk])).toEqual([
      ['current', '-----BEGIN PRIVATE KEY----- current', '{"kid":"current"}'],
      ['retired-1', '', '{"kid":"retired-1"}'],
      ['retired-2', '', '{"kid":"retired-2"}'],
    ]);
  });
});
