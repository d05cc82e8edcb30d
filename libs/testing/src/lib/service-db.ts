import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Client } from 'pg';
import type { TestDatabase } from './test-database';

/** Runs `sqlite` on the service's SQLite file, or `postgres` in its PostgreSQL schema. */
async function onServiceDb<T>(
  db: TestDatabase,
  service: string,
  readonly: boolean,
  sqlite: (file: Database.Database) => T,
  postgres: (client: Client) => Promise<T>,
): Promise<T> {
  if (db.kind === 'sqlite') {
    const file = new Database(join(db.env['DATA_DIR'], `${service}.sqlite`), { readonly });
    try {
      return sqlite(file);
    } finally {
      file.close();
    }
  }
  const client = new Client({ connectionString: db.env['DATABASE_URL'] });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${service.replace(/-/g, '_')}"`);
    return await postgres(client);
  } finally {
    await client.end();
  }
}

const forSqlite = (sql: string): string => sql.replace(/\$\d+/g, '?');

/**
 * Runs a read-only query in one service's own store, to check what it wrote (SQLite file or
 * PostgreSQL schema). Use `$1`-style placeholders; they are translated for SQLite.
 */
export function queryServiceDb<T = Record<string, unknown>>(
  db: TestDatabase,
  service: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  return onServiceDb(
    db,
    service,
    true,
    (file) => file.prepare(forSqlite(sql)).all(...params) as T[],
    async (client) => (await client.query(sql, params)).rows as T[],
  );
}

/**
 * Changes one service's own store behind its back (to set up what a test needs, such as a key
 * made long ago): run it while the service is stopped. `$1`-style placeholders, as above; returns
 * how many rows changed.
 */
export function updateServiceDb(
  db: TestDatabase,
  service: string,
  sql: string,
  params: unknown[] = [],
): Promise<number> {
  return onServiceDb(
    db,
    service,
    false,
    (file) => file.prepare(forSqlite(sql)).run(...params).changes,
    async (client) => (await client.query(sql, params)).rowCount ?? 0,
  );
}
