import { Injectable, Logger } from '@nestjs/common';
import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { ObjectLiteral, Repository } from 'typeorm';
import { Sql } from '@baton/persistence';
import { LoginThrottleEntity } from '../entities';

/** Attempts are counted in windows of this length, from the first attempt of each. */
export const THROTTLE_WINDOW_MS = 15 * 60_000;
/** How often each replica deletes the counts whose window and block are over. */
const SWEEP_INTERVAL_MS = 60_000;

/** What is counted: an account's failed logins, an address's, an address's registrations. */
export type Counted = 'account' | 'address' | 'registration';

/** The row's key: fixed width whatever was sent, and no email or address kept readable. */
const keyOf = (kind: Counted, value: string): string =>
  createHash('sha256').update(`${kind}\0${value}`).digest('hex');

/**
 * Attempt counts in auth's store (`login_throttle`), which the throttles read and write: every
 * replica counts the same attempts and a restart forgets none. Each attempt is counted by one
 * statement (an upsert that also starts a new window once the last one is over), so replicas
 * counting at once lose none.
 */
@Injectable()
export class ThrottleCounts implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('LoginThrottle');
  private readonly time: (date: Date) => unknown;
  private readonly readTime: (row: ObjectLiteral) => Date | null;
  private readonly readCount: (row: ObjectLiteral) => number;
  private readonly blockedSql: string;
  private readonly countSql: string;
  private readonly blockSql: string;
  private readonly clearSql: string;
  private readonly sweepSql: string;
  private readonly sql: Sql;
  private sweeper?: NodeJS.Timeout;

  constructor(@InjectRepository(LoginThrottleEntity) repository: Repository<LoginThrottleEntity>) {
    const sql = new Sql(repository.manager.connection);
    const table = sql.table(LoginThrottleEntity);
    const column = (property: keyof LoginThrottleEntity) =>
      sql.column(LoginThrottleEntity, property);
    const [key, failures, started, blocked] = [
      column('keyHash'),
      column('failures'),
      column('windowStartedAt'),
      column('blockedUntil'),
    ];
    const p = (n: number) => sql.param(n);
    this.sql = sql;
    this.time = sql.writer(LoginThrottleEntity, 'windowStartedAt');
    this.readTime = sql.reader(LoginThrottleEntity, 'blockedUntil');
    this.readCount = sql.reader(LoginThrottleEntity, 'failures');
    this.blockedSql = `SELECT MAX(${blocked}) AS ${blocked} FROM ${table} WHERE ${key} IN (${p(1)}, ${p(2)})`;
    // Both SET expressions read the row as it was. A window is still running when it started at
    // or after `since`; otherwise this attempt starts a new one. A block stays as it is: it is a
    // time, over once passed. Parameters, in order (one per placeholder, as SQLite's `?` are
    // positional): key, now, now, since, since, now.
    const running = (n: number) => `t.${started} >= ${p(n)}`;
    this.countSql =
      `INSERT INTO ${table} AS t (${key}, ${failures}, ${started}, ${blocked}) ` +
      `VALUES (${p(1)}, 1, ${p(2)}, ${p(3)}) ON CONFLICT (${key}) DO UPDATE SET ` +
      `${failures} = CASE WHEN ${running(4)} THEN t.${failures} + 1 ELSE 1 END, ` +
      `${started} = CASE WHEN ${running(5)} THEN t.${started} ELSE ${p(6)} END ` +
      `RETURNING ${failures}`;
    this.blockSql = `UPDATE ${table} SET ${blocked} = ${p(1)} WHERE ${key} = ${p(2)} AND ${blocked} < ${p(3)}`;
    this.clearSql = `DELETE FROM ${table} WHERE ${key} = ${p(1)}`;
    this.sweepSql = `DELETE FROM ${table} WHERE ${started} < ${p(1)} AND ${blocked} <= ${p(2)}`;
  }

  onModuleInit(): void {
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /** Seconds until the later of the blocks of `a` and `b` is over; 0 when neither blocks. */
  async retryAfter(a: [Counted, string], b?: [Counted, string]): Promise<number> {
    const first = keyOf(...a);
    const [row] = await this.sql.query(this.blockedSql, [first, b ? keyOf(...b) : first]);
    const until = row ? this.readTime(row) : null;
    const wait = until ? until.getTime() - Date.now() : 0;
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  /** Counts one attempt and returns the attempts in its window, this one included. */
  async count(kind: Counted, value: string): Promise<number> {
    const now = Date.now();
    const current = this.time(new Date(now));
    const since = this.time(new Date(now - THROTTLE_WINDOW_MS));
    const [row] = await this.sql.query(this.countSql, [
      keyOf(kind, value),
      current,
      current,
      since,
      since,
      current,
    ]);
    return this.readCount(row);
  }

  /** Blocks `value` for `forMs` from now, unless it is blocked longer already. */
  async block(kind: Counted, value: string, forMs: number): Promise<void> {
    const until = this.time(new Date(Date.now() + forMs));
    await this.sql.query(this.blockSql, [until, keyOf(kind, value), until]);
  }

  /** Forgets `value`'s count and block. */
  async clear(kind: Counted, value: string): Promise<void> {
    await this.sql.query(this.clearSql, [keyOf(kind, value)]);
  }

  /** Deletes the counts whose window is over and which block nothing. */
  async sweep(): Promise<void> {
    const now = Date.now();
    try {
      await this.sql.query(this.sweepSql, [
        this.time(new Date(now - THROTTLE_WINDOW_MS)),
        this.time(new Date(now)),
      ]);
    } catch (err) {
      // the next sweep deletes them; nothing depends on their being gone
      this.logger.warn(`could not delete expired login-throttle counts: ${(err as Error).message}`);
    }
  }
}
