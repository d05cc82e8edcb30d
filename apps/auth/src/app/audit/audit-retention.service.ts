import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { In, LessThan } from 'typeorm';
import type { Repository } from 'typeorm';
import { AUTH_ENV, AuthServiceEnv } from '../auth.env';
import { AuditEventEntity } from '../entities';

const DAY_MS = 86_400_000;
const PRUNE_INTERVAL_MS = 3_600_000;
/** Events deleted per statement: a long backlog goes in short statements, not one long lock. */
export const PRUNE_BATCH = 1_000;

/**
 * Deletes audit events older than `AUDIT_RETENTION_DAYS` (none when it is 0): once at start, in the
 * background, then every hour. Every replica prunes; deleting what another replica just deleted
 * deletes nothing.
 */
@Injectable()
export class AuditRetention implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Audit');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    @InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>,
    @Inject(AUTH_ENV) private readonly env: AuthServiceEnv,
  ) {}

  onApplicationBootstrap(): void {
    if (this.env.AUDIT_RETENTION_DAYS === 0) {
      return;
    }
    this.schedule();
    this.timer = setInterval(() => this.schedule(), PRUNE_INTERVAL_MS).unref();
  }

  /** Stops pruning, after the statement under way, so that the store closes with none running. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * Deletes the events created before `AUDIT_RETENTION_DAYS` days ago, oldest first, and returns how
   * many it deleted.
   */
  async prune(now = Date.now()): Promise<number> {
    const before = new Date(now - this.env.AUDIT_RETENTION_DAYS * DAY_MS);
    let deleted = 0;
    while (!this.stopped) {
      const batch = await this.events.find({
        select: { id: true },
        where: { createdAt: LessThan(before) },
        order: { createdAt: 'ASC' },
        take: PRUNE_BATCH,
      });
      if (batch.length === 0) {
        break;
      }
      const result = await this.events.delete({ id: In(batch.map((e) => e.id)) });
      deleted += result.affected ?? batch.length;
      if (batch.length < PRUNE_BATCH) {
        break;
      }
      await nextTurn();
    }
    return deleted;
  }

  private schedule(): void {
    if (this.running || this.stopped) {
      return; // the last run is still going: it deletes these too
    }
    this.running = this.prune()
      .then((deleted) => {
        if (deleted > 0) {
          this.logger.log(
            `deleted ${deleted} audit events older than ${this.env.AUDIT_RETENTION_DAYS} days`,
          );
        }
      })
      .catch((err: unknown) => {
        // the next run deletes them; nothing waits on their being gone
        this.logger.warn(`could not delete old audit events: ${(err as Error).message}`);
      })
      .finally(() => {
        this.running = undefined;
      });
  }
}
