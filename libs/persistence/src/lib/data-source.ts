import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { DataSourceOptions } from 'typeorm';
import type { StoreConfig } from './store-config';
import { inImmediateTransaction, withAdvisoryLock } from './store-lock';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Classes = Function[];

export interface DataSourceSpec {
  store: StoreConfig;
  entities: Classes;
  migrations: Classes;
}

/** TypeORM options for a service's store. Schema changes run as migrations, never `synchronize`. */
export function dataSourceOptions({
  store,
  entities,
  migrations,
}: DataSourceSpec): DataSourceOptions {
  const common = {
    entities,
    migrations,
    migrationsRun: true,
    synchronize: false,
    logging: false,
  } as const;
  if (store.kind === 'sqlite') {
    return {
      ...common,
      type: 'better-sqlite3',
      database: store.file,
      prepareDatabase: (db: { pragma(sql: string): unknown }) => {
        db.pragma('journal_mode = WAL');
        // Every commit reaches the disk before it is acknowledged, so a power cut loses no
        // answered write (a revocation, a rotated refresh token, an order). Said explicitly:
        // better-sqlite3's SQLite opens a file already in WAL mode with NORMAL, which does not
        // sync on commit, so without this every start but the first would run without.
        db.pragma('synchronous = FULL');
        db.pragma('busy_timeout = 5000');
        db.pragma('foreign_keys = ON');
      },
    };
  }
  return {
    ...common,
    type: 'postgres',
    url: store.url,
    schema: store.schema,
    extra: { max: 10, connectionTimeoutMillis: 5000 },
  };
}

const createSchema = (schema: string): string => `CREATE SCHEMA IF NOT EXISTS "${schema}"`;

/** Prepares what TypeORM cannot make itself (the SQLite folder, the PostgreSQL schema). */
export async function prepareStore(store: StoreConfig): Promise<void> {
  if (store.kind === 'sqlite') {
    mkdirSync(dirname(store.file), { recursive: true, mode: 0o700 });
    return;
  }
  const client = new Client({ connectionString: store.url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(createSchema(store.schema));
  } finally {
    await client.end();
  }
}

/** Opens the store and brings its schema up to date. */
export async function openDataSource(spec: DataSourceSpec): Promise<DataSource> {
  return openStore(spec.store, dataSourceOptions(spec));
}

/**
 * Opens the store with `options` and, when they ask for it (`migrationsRun`), brings its schema up
 * to date, one process at a time: processes that open the same empty store at once neither both
 * create the PostgreSQL schema nor both run the migrations (see `store-lock.ts`).
 */
export async function openStore(
  store: StoreConfig,
  options: DataSourceOptions,
): Promise<DataSource> {
  if (store.kind === 'postgres') {
    return withAdvisoryLock(store.url, store.schema, async (session) => {
      await session.query(createSchema(store.schema));
      return new DataSource(options).initialize();
    });
  }
  await prepareStore(store);
  const dataSource = await new DataSource({ ...options, migrationsRun: false }).initialize();
  if (!options.migrationsRun) {
    return dataSource;
  }
  try {
    // The lock's transaction makes the migrations all-or-nothing, as TypeORM's default single
    // transaction would. TypeORM's own step around them (foreign keys off) is a pragma that SQLite
    // ignores inside a transaction, so it comes before.
    const connection = dataSource.createQueryRunner();
    await connection.beforeMigration();
    try {
      await inImmediateTransaction(dataSource, () =>
        dataSource.runMigrations({ transaction: 'none' }),
      );
    } finally {
      await connection.afterMigration();
    }
  } catch (err) {
    await dataSource.destroy();
    throw err;
  }
  return dataSource;
}

/** True when the store answers a trivial query. */
export async function storeAnswers(dataSource: DataSource): Promise<boolean> {
  try {
    await dataSource.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
