import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampColumn, uuidColumn } from '@baton/persistence';
import type { AuditEventType } from '@baton/contracts';

@Entity({ name: 'audit_events' })
@Index('ix_audit_events_created_at', ['createdAt'])
@Index('ix_audit_events_user_id', ['userId'])
@Index('ix_audit_events_actor_id', ['actorId'])
export class AuditEventEntity {
  @PrimaryColumn(uuidColumn())
  id: string;

  @Column({ type: 'varchar', length: 32 })
  type: AuditEventType;

  /** The subject: a user id or `svc:<name>`. */
  @Column({ name: 'user_id', type: 'varchar', length: 64, nullable: true })
  userId: string | null;

  /** Who caused it: the verified caller's `sub`; null when no one was authenticated. */
  @Column({ name: 'actor_id', type: 'varchar', length: 64, nullable: true })
  actorId: string | null;

  @Column({ name: 'session_id', type: 'varchar', length: 64, nullable: true })
  sessionId: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  @Column({ name: 'client_ip', type: 'varchar', length: 64, nullable: true })
  clientIp: string | null;

  @Column({ type: 'simple-json', nullable: true })
  detail: Record<string, unknown> | null;

  @Column({ name: 'created_at', ...timestampColumn() })
  createdAt: Date;
}
