import { randomUUID } from 'node:crypto';
import { Column, DataSource, Entity, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Repository } from 'typeorm';
import { createTestDatabase } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';
import { timestampColumn, uuidColumn } from './column-types';
import { dataSourceOptions, prepareStore } from './data-source';
import { resolveStore } from './store-config';
import { Sql } from './sql';

/*
 * Sql against the real store (SQLite, or PostgreSQL in its own schema when DATABASE_URL is set):
 * what `finder` reads must be exactly what the repository reads, column type by column type.
 */

@Entity({ name: 'sql_probe' })
class Probe {
  @PrimaryColumn(uuidColumn())
  id: string;

  @Column({ name: 'owner_id', ...uuidColumn() })
  ownerId: string;

  @Column({ name: 'display_name', type: 'varchar', length: 100, nullable: true })
  displayName: string | null;

  @Column({ type: 'simple-array' })
  roles: string[];

  @Column({
    name: 'big_cents',
    type: 'bigint',
    transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) },
  })
  bigCents: number;

  @Column({ type: 'integer' })
  position: number;

  @Column({ name: 'created_at', ...timestampColumn() })
  createdAt: Date;
}

@Entity({ name: 'sql_probe_child' })
class ProbeChild {
  @PrimaryColumn(uuidColumn())
  id: string;

  @ManyToOne(() => Probe)
  parent: Probe;
}

describe(Sql.name, () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let repository: Repository<Probe>;
  let sut: Sql;
  const rows: Probe[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const store = resolveStore('sql-probe', db.env);
    await prepareStore(store);
    // a throwaway table for this test only; the services' schemas come from migrations
    dataSource = await new DataSource({
      ...dataSourceOptions({ store, entities: [Probe, ProbeChild], migrations: [] }),
      migrationsRun: false,
      synchronize: true,
    }).initialize();
    repository = dataSource.getRepository(Probe);
    for (let n = 0; n < 5; n++) {
      rows.push(
        repository.create({
          id: randomUUID(),
          ownerId: randomUUID(),
          displayName: n % 2 ? `Name ${n} — ünïcode` : null,
          roles: n % 2 ? ['user', 'admin'] : ['user'],
          bigCents: 2 ** 40 + n,
          position: n,
          createdAt: new Date(Date.parse('2026-05-01T12:34:56.789Z') + n * 1000),
        }),
      );
    }
    await repository.insert(rows);
    sut = new Sql(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('should read a row by its key exactly as the repository does', async () => {
    const byId = sut.finder(Probe, ['id']);

    for (const row of rows) {
      const found = await byId(row.id);
      expect(found).toBeInstanceOf(Probe);
      expect(found).toEqual(await repository.findOneBy({ id: row.id }));
      expect(found?.createdAt.toISOString()).toBe(row.createdAt.toISOString());
      expect(found?.bigCents).toBe(row.bigCents);
    }
  });

  it('should match on every property it was given', async () => {
    const byIdAndOwner = sut.finder(Probe, ['id', 'ownerId']);
    const [row] = rows;

    await expect(byIdAndOwner(row.id, row.ownerId)).resolves.toEqual(
      await repository.findOneBy({ id: row.id }),
    );
    await expect(byIdAndOwner(row.id, randomUUID())).resolves.toBeUndefined();
  });

  it('should find nothing for a key that is not there', async () => {
    await expect(sut.finder(Probe, ['id'])(randomUUID())).resolves.toBeUndefined();
  });

  it('should refuse an entity with relations, which it would read incompletely', () => {
    expect(() => sut.finder(ProbeChild, ['id'])).toThrow(/relations/);
  });

  it('should bind values as the repository stores them, so that the store compares them in order', async () => {
    const createdAt = sut.writer<Date>(Probe, 'createdAt');
    const readCreatedAt = sut.reader<Date>(Probe, 'createdAt');
    const since = rows[2].createdAt;

    const later = await sut.query(
      `SELECT ${sut.column(Probe, 'createdAt')} FROM ${sut.table(Probe)} ` +
        `WHERE ${sut.column(Probe, 'createdAt')} > ${sut.param(1)} ORDER BY 1`,
      [createdAt(since)],
    );

    expect(later.map((row) => readCreatedAt(row).toISOString())).toEqual(
      rows.slice(3).map((row) => row.createdAt.toISOString()),
    );
  });

  it('should quote tables, schema-qualified on PostgreSQL, and use the driver placeholders', () => {
    if (db.kind === 'postgres') {
      expect(sut.table(Probe)).toBe('"sql_probe"."sql_probe"');
      expect(sut.param(2)).toBe('$2');
    } else {
      expect(sut.table(Probe)).toBe('"sql_probe"');
      expect(sut.param(2)).toBe('?');
    }
    expect(sut.column(Probe, 'displayName')).toBe('"display_name"');
  });
});
