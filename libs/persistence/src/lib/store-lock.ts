import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { driverErrorCode } from './errors';

/*
 * Replicas of a service may start at the same moment on an empty store. Each would read that no
 * migration has run and run them all (the later one failing on tables that already exist), and
 * each would find no first signing key or admin and create one. So the store's start-up, and any
 * one-time set-up that checks and then creates, runs under a lock that the store itself keeps
 * across processes, and that the database gives up when a holder dies:
 *
 * - PostgreSQL: an advisory lock, one per service schema. Migrations hold it for the session on a
 *   dedicated connection (from before the schema is created to after the last migration);
 *   `runExclusive` holds it for its transaction.
 * - SQLite: the database's own write lock, taken with `BEGIN IMMEDIATE` on the store's one
 *   connection, with the work inside that transaction. SQLite has no advisory locks, and this is
 *   the lock every process that opens the file already honours. Taking it at `BEGIN` rather than
 *   at the first write (as a plain, deferred transaction would) means the check itself (which
 *   migrations are pending, whether a key exists) is read under the lock, so no other process can
 *   change the answer before the work commits. A lock file beside the database would need its own
 *   stale-lock handling; this one is released by the operating system when a holder dies.
 */

/**
 * The advisory-lock key of a service schema's start-up. Advisory locks share one key space per
 * database with anything else that uses them; a hash of a name of our own keeps ours apart.
 */
export function storeLockKey(schema: string): string {
  return createHash('sha256').update(`baton.store:${schema}`).digest().readBigInt64BE(0).toString();
}

/**
 * Runs `work` holding the schema's advisory lock on a session of its own (a connection apart from
 * any data source's pool, so that the lock can be held while a data source is opened), which
 * `work` may use too.
 */
export async function withAdvisoryLock<T>(
  url: string,
  schema: string,
  work: (session: Client) => Promise<T>,
): Promise<T> {
  const session = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await session.connect();
  try {
    await session.query('SELECT pg_advisory_lock($1::bigint)', [storeLockKey(schema)]);
    return await work(session);
  } finally {
    // Ending the session releases its advisory lock (as the server does for a session that dies).
    await session.end();
  }
}

/**
 * Runs `work` in a SQLite transaction begun with `BEGIN IMMEDIATE`, which holds the database's
 * write lock from its start. Each attempt waits up to the connection's `busy_timeout`; attempts
 * are repeated while another process holds the lock, so that a long migration elsewhere delays
 * this start instead of failing it.
 *
 * TypeORM drives SQLite through one connection and does not know of this transaction: `work` may
 * read and write (`find`, `insert`, `update`, raw queries, migrations run with
 * `transaction: 'none'`) but must not open a transaction of its own (`save`, `transaction`).
 */
export async function inImmediateTransaction<T>(
  dataSource: DataSource,
  work: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  const connection = dataSource.createQueryRunner();
  for (;;) {
    try {
      await connection.query('BEGIN IMMEDIATE');
      break;
    } catch (err) {
      if (!isBusy(err)) {
        throw err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let result: T;
  try {
    result = await work(connection.manager);
  } catch (err) {
    // SQLite has already rolled back after some errors; the original error is the one to report.
    await connection.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  await connection.query('COMMIT');
  return result;
}

function isBusy(err: unknown): boolean {
  return driverErrorCode(err).startsWith('SQLITE_BUSY');
}
