import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { DataSourceOptions } from 'typeorm';
import type { StoreConfig } from './store-config';

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

/** Prepares what TypeORM cannot make itself (the SQLite folder, the PostgreSQL schema). */
export async function prepareStore(store: StoreConfig): Promise<void> {
  if (store.kind === 'sqlite') {
    mkdirSync(dirname(store.file), { recursive: true, mode: 0o700 });
    return;
  }
  const client = new Client({ connectionString: store.url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${store.schema}"`);
  } finally {
    await client.end();
  }
}

/** Opens the store and brings its schema up to date. */
export async function openDataSource(spec: DataSourceSpec): Promise<DataSource> {
  await prepareStore(spec.store);
  return new DataSource(dataSourceOptions(spec)).initialize();
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
