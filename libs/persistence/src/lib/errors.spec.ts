import { Column, DataSource, Entity, PrimaryColumn } from 'typeorm';
import { createTestDatabase } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';
import { dataSourceOptions, prepareStore } from './data-source';
import { driverErrorCode, isUniqueViolation } from './errors';
import { resolveStore } from './store-config';

/* The store's own refusals (SQLite, or PostgreSQL in its own schema when DATABASE_URL is set). */

@Entity({ name: 'unique_probe' })
class Probe {
  @PrimaryColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'varchar', length: 20, unique: true })
  email: string;

  @Column({ type: 'varchar', length: 20 })
  name: string;
}

describe(isUniqueViolation.name, () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    const store = resolveStore('unique-probe', db.env);
    await prepareStore(store);
    // a throwaway table for this test only; the services' schemas come from migrations
    dataSource = await new DataSource({
      ...dataSourceOptions({ store, entities: [Probe], migrations: [] }),
      migrationsRun: false,
      synchronize: true,
    }).initialize();
    await dataSource.getRepository(Probe).insert({ id: 1, email: 'a@example.com', name: 'A' });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  const refusal = (row: Partial<Probe>): Promise<unknown> =>
    dataSource
      .getRepository(Probe)
      .insert(row)
      .then(
        () => undefined,
        (err: unknown) => err,
      );

  it('should recognise a value a unique index already holds', async () => {
    const err = await refusal({ id: 2, email: 'a@example.com', name: 'B' });

    expect(err).toBeDefined();
    expect(isUniqueViolation(err)).toBe(true);
  });

  it('should recognise a primary key already taken', async () => {
    const err = await refusal({ id: 1, email: 'b@example.com', name: 'B' });

    expect(err).toBeDefined();
    expect(isUniqueViolation(err)).toBe(true);
  });

  it('should not take a missing required value for a conflict', async () => {
    const err = await refusal({ id: 3, email: 'c@example.com' });

    expect(err).toBeDefined();
    expect(isUniqueViolation(err)).toBe(false);
  });

  it('should not take a value too long for its column for a conflict', async () => {
    const err = await refusal({ id: 4, email: 'd@example.com', name: 'x'.repeat(21) });

    // SQLite keeps a varchar of any length; PostgreSQL refuses it
    expect({ refused: err !== undefined, conflict: isUniqueViolation(err) }).toEqual({
      refused: db.kind === 'postgres',
      conflict: false,
    });
  });

  it('should not take anything but a failed query for a conflict', () => {
    expect(isUniqueViolation(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(
      false,
    );
    expect(isUniqueViolation(undefined)).toBe(false);
    expect(driverErrorCode(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' }))).toBe('');
  });

  it("should give the driver's own code for a failed query", async () => {
    const err = await refusal({ id: 5, email: 'a@example.com', name: 'E' });

    expect(driverErrorCode(err)).toBe(
      db.kind === 'postgres' ? '23505' : 'SQLITE_CONSTRAINT_UNIQUE',
    );
  });
});
