import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Client } from 'pg';
import type { TestDatabase } from './test-database';

/**
 * Runs a read-only query in one service's own store, to check what it wrote (SQLite file or
 * PostgreSQL schema). Use `$1`-style placeholders; they are translated for SQLite.
 */
export async function queryServiceDb<T = Record<string, unknown>>(
  db: TestDatabase,
  service: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  if (db.kind === 'sqlite') {
    const file = new Database(join(db.env['DATA_DIR'], `${service}.sqlite`), { readonly: true });
    try {
      return file.prepare(sql.replace(/\$\d+/g, '?')).all(...params) as T[];
    } finally {
      file.close();
    }
  }
  const client = new Client({ connectionString: db.env['DATABASE_URL'] });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${service.replace(/-/g, '_')}"`);
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * Changes one service's own store behind its back (to set up what a test needs, such as a key
 * made long ago): run it while the service is stopped. `$1`-style placeholders, as above; returns
 * how many rows changed.
 */
export async function updateServiceDb(
  db: TestDatabase,
  service: string,
  sql: string,
  params: unknown[] = [],
): Promise<number> {
  if (db.kind === 'sqlite') {
    const file = new Database(join(db.env['DATA_DIR'], `${service}.sqlite`));
    try {
      return file.prepare(sql.replace(/\$\d+/g, '?')).run(...params).changes;
    } finally {
      file.close();
    }
  }
  const client = new Client({ connectionString: db.env['DATABASE_URL'] });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${service.replace(/-/g, '_')}"`);
    return (await client.query(sql, params)).rowCount ?? 0;
  } finally {
    await client.end();
  }
}
