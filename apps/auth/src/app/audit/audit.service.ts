import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { And, Equal, LessThan, MoreThanOrEqual } from 'typeorm';
import type { FindOperator, FindOptionsWhere, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { AuditEventType, AuditEventView, AuditQueryDto } from '@baton/contracts';
import { currentCallContext } from '@baton/auth';
import { AuditEventEntity } from '../entities';

export interface AuditRecord {
  type: AuditEventType;
  /** The subject: a user id or `svc:<name>`. */
  userId?: string | null;
  /**
   * Who caused the event. Left out, it is the verified caller of the message being handled (no
   * one on a public subject). Given only where the message itself proves who sent it: the user
   * whose password or refresh token it carried, the service whose credentials it carried.
   */
  actorId?: string | null;
  sessionId?: string | null;
  /** Never a token, a password or a hash. */
  detail?: Record<string, unknown>;
}

/** The audit log: who did what, when, from where, in which request. */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(
    @InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>,
  ) {}

  async record(record: AuditRecord): Promise<void> {
    const ctx = currentCallContext();
    const event = this.events.create({
      id: randomUUID(),
      type: record.type,
      userId: record.userId ?? null,
      actorId: record.actorId === undefined ? (ctx?.principal?.sub ?? null) : record.actorId,
      sessionId: record.sessionId ?? null,
      requestId: ctx?.requestId ?? null,
      clientIp: ctx?.clientIp?.slice(0, 64) ?? null,
      detail: record.detail ?? null,
      createdAt: new Date(),
    });
    await this.events.insert(event as QueryDeepPartialEntity<AuditEventEntity>);
    this.logger.log(
      `${record.type} sub=${record.userId ?? '-'} actor=${event.actorId ?? '-'} request=${event.requestId ?? '-'}`,
    );
  }

  /**
   * Events newest first, in one total order (time, then id), so that pages taken with `before`
   * neither repeat nor skip an event, however many share a time.
   */
  async query(q: AuditQueryDto): Promise<AuditEventView[]> {
    const filters: FindOptionsWhere<AuditEventEntity> = {
      ...(q.userId ? { userId: q.userId } : {}),
      ...(q.actorId ? { actorId: q.actorId } : {}),
      ...(q.type ? { type: q.type } : {}),
    };
    const since = q.since === undefined ? undefined : MoreThanOrEqual(new Date(q.since));
    const at = (time: FindOperator<Date>) => (since ? And(since, time) : time);
    let where: FindOptionsWhere<AuditEventEntity>[] = [
      since ? { ...filters, createdAt: since } : filters,
    ];
    if (q.before !== undefined) {
      const last = await this.events.findOne({
        where: { id: q.before },
        select: { id: true, createdAt: true },
      });
      if (!last) {
        // pruning goes oldest first: an event no longer kept has no older one left
        return [];
      }
      where = [
        { ...filters, createdAt: at(LessThan(last.createdAt)) },
        { ...filters, createdAt: at(Equal(last.createdAt)), id: LessThan(last.id) },
      ];
    }
    const rows = await this.events.find({
      where,
      order: { createdAt: 'DESC', id: 'DESC' },
      take: q.limit ?? 50,
    });
    return rows.map((e) => this.map(e));
  }

  private map(e: AuditEventEntity): AuditEventView {
    return {
      id: e.id,
      type: e.type,
      userId: e.userId,
      actorId: e.actorId,
      sessionId: e.sessionId,
      requestId: e.requestId,
      clientIp: e.clientIp,
      detail: e.detail,
      createdAt: new Date(e.createdAt).toISOString(),
    };
  }
}
