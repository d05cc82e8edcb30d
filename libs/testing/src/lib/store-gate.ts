import Database from 'better-sqlite3';
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { TestDatabase } from './test-database';

export interface StoreGate {
  /** Resolves once `count` processes other than this one stand at the gate. */
  waiting(count: number): Promise<void>;
  /** Opens the gate: everyone waiting goes on at the same moment. Leaves the store as it was. */
  release(): Promise<void>;
}

/**
 * Holds one service's empty store shut, so that processes starting on it all stop at its door,
 * however far apart their starts were, and go on together when it is released: the way to make
 * replicas really race through their start-up on the store.
 *
 * - PostgreSQL: an open transaction that creates the service's schema. Whoever creates the schema
 *   waits for it (and whoever waits for that one's lock stands in line too); `release()` rolls it
 *   back, so the store is still empty. Waiting backends are read from `pg_stat_activity`.
 * - SQLite: the write lock of the service's file, made empty and in WAL mode (what the services
 *   make it too), so that processes read it freely and stop at their first write or `BEGIN
 *   IMMEDIATE` (within their 5 s `busy_timeout`, so release promptly). A process counts once it
 *   holds the file open, read from `/proc` (Linux), and stands at the gate a moment later.
 */
export async function holdStore(db: TestDatabase, service: string): Promise<StoreGate> {
  if (db.kind === 'postgres') {
    return holdPostgresSchema(db.env['DATABASE_URL'], service.replace(/-/g, '_'));
  }
  return holdSqliteFile(join(db.env['DATA_DIR'], `${service}.sqlite`));
}

async function holdPostgresSchema(url: string, schema: string): Promise<StoreGate> {
  const holder = new Client({ connectionString: url });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query(`CREATE SCHEMA "${schema}"`);
  const waitingBackends = async () => {
    // inside a transaction, activity is a snapshot taken at its first read, unless cleared
    await holder.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await holder.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
    );
    return Number(rows[0].n);
  };
  return {
    waiting: (count) => until(async () => (await waitingBackends()) >= count),
    release: async () => {
      await holder.query('ROLLBACK');
      await holder.end();
    },
  };
}

function holdSqliteFile(file: string): StoreGate {
  const holder = new Database(file);
  holder.pragma('journal_mode = WAL');
  holder.exec('BEGIN IMMEDIATE');
  return {
    waiting: async (count) => {
      await until(() => processesHolding(file) >= count);
      // from opening the file to its first write is a few statements away
      await new Promise((r) => setTimeout(r, 250));
    },
    release: () => {
      holder.exec('ROLLBACK');
      holder.close();
      return Promise.resolve();
    },
  };
}

/** How many processes other than this one have `file` open. */
function processesHolding(file: string): number {
  let count = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) {
      continue;
    }
    try {
      const fds = readdirSync(`/proc/${pid}/fd`);
      if (fds.some((fd) => safeReadlink(`/proc/${pid}/fd/${fd}`) === file)) {
        count++;
      }
    } catch {
      // another user's process, or one that has just exited
    }
  }
  return count;
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) {
    await new Promise((r) => setTimeout(r, 25));
  }
}
