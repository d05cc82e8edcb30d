import { IsNull } from 'typeorm';
import type { DataSource, Repository } from 'typeorm';
import { openDataSource, resolveStore } from '@baton/persistence';
import { createTestDatabase } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';
import { loadAuthServiceEnv } from '../auth.env';
import { SigningKeyEntity } from '../entities';
import { InitialAuthSchema1732300000000 } from '../migrations/1732300000000-initial-auth-schema';
import { OneCurrentSigningKey1795397271517 } from '../migrations/1795397271517-one-current-signing-key';
import { EraseRetiredPrivateKeys1796419145507 } from '../migrations/1796419145507-erase-retired-private-keys';
import { SigningKeysService } from './signing-keys.service';

/*
 * Rotation by age on the real store (SQLite, or PostgreSQL when DATABASE_URL is set), with two
 * instances on two connections of one store standing for two auth replicas.
 */

const DAY_MS = 86_400_000;
const MAX_AGE_MS = 90 * DAY_MS;

describe(SigningKeysService.name, () => {
  let db: TestDatabase;
  const opened: DataSource[] = [];
  let keys: Repository<SigningKeyEntity>;
  let sut: SigningKeysService;
  let replica: SigningKeysService;

  const open = async (): Promise<SigningKeysService> => {
    const dataSource = await openDataSource({
      store: resolveStore('auth', db.env),
      entities: [SigningKeyEntity],
      migrations: [
        InitialAuthSchema1732300000000,
        OneCurrentSigningKey1795397271517,
        EraseRetiredPrivateKeys1796419145507,
      ],
    });
    opened.push(dataSource);
    const service = new SigningKeysService(
      dataSource.getRepository(SigningKeyEntity),
      loadAuthServiceEnv({}),
    );
    await service.ready();
    return service;
  };
  /** Makes the current key `days` old, as if it had been made then. */
  const age = async (days: number) => {
    await keys.update({ retiredAt: IsNull() }, { createdAt: new Date(Date.now() - days * DAY_MS) });
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    sut = await open();
    replica = await open();
    keys = opened[0].getRepository(SigningKeyEntity);
  });

  afterAll(async () => {
    for (const dataSource of opened) {
      await dataSource.destroy();
    }
    await db?.drop();
  });

  it('should leave a key younger than the age alone', async () => {
    await age(89);
    const before = (await sut.signingKey()).kid;

    expect(await sut.rotateIfOlderThan(MAX_AGE_MS)).toBeUndefined();

    expect((await sut.signingKey()).kid).toBe(before);
    expect(await keys.countBy({})).toBe(1);
  });

  it('should replace a key of that age, sign with the new one, and erase the old private key', async () => {
    await age(90);
    const old = (await sut.signingKey()).kid;

    const kid = await sut.rotateIfOlderThan(MAX_AGE_MS);

    expect(kid).toEqual(expect.any(String));
    expect(kid).not.toBe(old);
    expect((await sut.signingKey()).kid).toBe(kid);
    const rows = await keys.find();
    expect(rows.find((k) => k.kid === old)).toMatchObject({ privateKey: '' });
    expect(rows.find((k) => k.kid === old)?.retiredAt).not.toBeNull();
    expect(rows.find((k) => k.kid === kid)).toMatchObject({ retiredAt: null });
    expect((await sut.jwks()).keys.map((k) => k.kid).sort()).toEqual([kid, old].sort());
  });

  it('should rotate once when two replicas find the key due at the same moment', async () => {
    await age(120);
    const count = await keys.countBy({});

    const kids = await Promise.all([
      sut.rotateIfOlderThan(MAX_AGE_MS),
      replica.rotateIfOlderThan(MAX_AGE_MS),
    ]);

    expect(kids.filter((kid) => kid !== undefined)).toHaveLength(1);
    expect(await keys.countBy({})).toBe(count + 1);
    expect(await keys.countBy({ retiredAt: IsNull() })).toBe(1);
  });
});
