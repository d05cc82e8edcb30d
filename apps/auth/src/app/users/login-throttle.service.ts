import { Injectable, Logger } from '@nestjs/common';
import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { ObjectLiteral, Repository } from 'typeorm';
import { Sql } from '@baton/persistence';
import { LoginThrottleEntity } from '../entities';

const WINDOW_MS = 15 * 60_000;
/** Per account: a short, growing back-off, capped so that an attacker cannot lock a victim out for long. */
const ACCOUNT_FREE_FAILURES = 5;
const ACCOUNT_MAX_BLOCK_MS = 60_000;
/** Per client address: a longer block once it has failed many times on any accounts. */
const ADDRESS_FREE_FAILURES = 20;
const ADDRESS_BLOCK_MS = 5 * 60_000;
/** How often each replica deletes the counts whose window and block are over. */
const SWEEP_INTERVAL_MS = 60_000;

type Counted = 'account' | 'address';

/** The row's key: fixed width whatever was sent, and no email or address kept readable. */
const keyOf = (kind: Counted, value: string): string =>
  createHash('sha256').update(`${kind}\0${value}`).digest('hex');

/**
 * Throttles failed logins per account and per client address (429 with Retry-After). The counts
 * live in auth's store, so every replica counts the same failures and a restart forgets none. Each
 * failure is counted by one statement (an upsert that also starts a new window once the last one is
 * over), so replicas counting at once lose no failure.
 */
@Injectable()
export class LoginThrottle implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LoginThrottle.name);
  private readonly time: (date: Date) => unknown;
  private readonly readTime: (row: ObjectLiteral) => Date | null;
  private readonly readFailures: (row: ObjectLiteral) => number;
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
    this.readFailures = sql.reader(LoginThrottleEntity, 'failures');
    this.blockedSql = `SELECT MAX(${blocked}) AS ${blocked} FROM ${table} WHERE ${key} IN (${p(1)}, ${p(2)})`;
    // Both SET expressions read the row as it was. A window is still running when it started at
    // or after `since`; otherwise this failure starts a new one. A block stays as it is: it is a
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

  /** Seconds to wait before the next attempt, or 0 when it may go ahead. */
  async retryAfter(email: string, address: string | undefined): Promise<number> {
    const account = keyOf('account', email);
    const [row] = await this.sql.query(this.blockedSql, [
      account,
      address ? keyOf('address', address) : account,
    ]);
    const until = row ? this.readTime(row) : null;
    const wait = until ? until.getTime() - Date.now() : 0;
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  async failed(email: string, address: string | undefined): Promise<void> {
    const accountFailures = await this.count('account', email);
    if (accountFailures > ACCOUNT_FREE_FAILURES) {
      const backoff = 1000 * 2 ** Math.min(accountFailures - ACCOUNT_FREE_FAILURES, 10);
      await this.block('account', email, Math.min(backoff, ACCOUNT_MAX_BLOCK_MS));
    }
    if (address) {
      const addressFailures = await this.count('address', address);
      if (addressFailures > ADDRESS_FREE_FAILURES) {
        await this.block('address', address, ADDRESS_BLOCK_MS);
      }
    }
  }

  async succeeded(email: string): Promise<void> {
    await this.sql.query(this.clearSql, [keyOf('account', email)]);
  }

  /** Deletes the counts whose window is over and which block nothing. */
  async sweep(): Promise<void> {
    const now = Date.now();
    try {
      await this.sql.query(this.sweepSql, [
        this.time(new Date(now - WINDOW_MS)),
        this.time(new Date(now)),
      ]);
    } catch (err) {
      // the next sweep deletes them; nothing depends on their being gone
      this.logger.warn(`could not delete expired login-throttle counts: ${(err as Error).message}`);
    }
  }

  /** Counts one failure for `value` and returns the failures in its window, this one included. */
  private async count(kind: Counted, value: string): Promise<number> {
    const now = Date.now();
    const current = this.time(new Date(now));
    const since = this.time(new Date(now - WINDOW_MS));
    const [row] = await this.sql.query(this.countSql, [
      keyOf(kind, value),
      current,
      current,
      since,
      since,
      current,
    ]);
    return this.readFailures(row);
  }

  private async block(kind: Counted, value: string, forMs: number): Promise<void> {
    const until = this.time(new Date(Date.now() + forMs));
    await this.sql.query(this.blockSql, [until, keyOf(kind, value), until]);
  }
}
