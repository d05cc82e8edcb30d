import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampColumn, uuidColumn } from '@baton/persistence';

/** A login session: one refresh-token family, the `sid` of its access tokens. */
@Entity({ name: 'sessions' })
@Index('ix_sessions_user_id', ['userId'])
export class SessionEntity {
  @PrimaryColumn(uuidColumn())
  id: string;

  @Column({ name: 'user_id', ...uuidColumn() })
  userId: string;

  @Column({ name: 'created_at', ...timestampColumn() })
  createdAt: Date;

  /** Absolute end of the session, whatever its refreshes. */
  @Column({ name: 'expires_at', ...timestampColumn() })
  expiresAt: Date;

  @Column({ name: 'revoked_at', ...timestampColumn(), nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revoked_reason', type: 'varchar', length: 64, nullable: true })
  revokedReason: string | null;
}
