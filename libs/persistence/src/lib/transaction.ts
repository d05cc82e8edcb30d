import type { DataSource, EntityManager } from 'typeorm';
import { inImmediateTransaction, storeLockKey } from './store-lock';

const queues = new WeakMap<DataSource, Promise<unknown>>();

const onSqlite = (dataSource: DataSource): boolean => dataSource.options.type === 'better-sqlite3';

/** Runs `task` after the transactions already queued on this SQLite data source. */
function queued<T>(dataSource: DataSource, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(dataSource) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(task);
  queues.set(dataSource, next);
  return next;
}

/**
 * Runs `work` in a transaction. TypeORM drives SQLite through one shared connection that holds one
 * transaction at a time, so on SQLite transactions are queued here instead of failing with
 * "transaction already started"; PostgreSQL runs them concurrently from its pool.
 */
export function runInTransaction<T>(
  dataSource: DataSource,
  work: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  if (!onSqlite(dataSource)) {
    return dataSource.transaction(work);
  }
  return queued(dataSource, () => dataSource.transaction(work));
}

/**
 * Runs `work` in a transaction that holds the store's lock across processes (see
 * `store-lock.ts`): for one-time set-up that checks and then creates, which replicas starting
 * together must not both do. Inside, `work` sees everything committed by whoever held the lock
 * before. It must not open a transaction of its own (`save`, `transaction`): on SQLite TypeORM
 * does not know of this one.
 */
export function runExclusive<T>(
  dataSource: DataSource,
  work: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  if (onSqlite(dataSource)) {
    return queued(dataSource, () => inImmediateTransaction(dataSource, work));
  }
  const schema = (dataSource.options as { schema?: string }).schema ?? 'public';
  // READ COMMITTED (the default): each statement after the lock sees what the last holder committed.
  return dataSource.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [storeLockKey(schema)]);
    return work(tx);
  });
}
