import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampColumn, uuidColumn } from '@baton/persistence';

export type RefreshTokenStatus = 'active' | 'rotated' | 'revoked';

/** A refresh token, stored only as its SHA-256 hash. */
@Entity({ name: 'refresh_tokens' })
@Index('uq_refresh_tokens_hash', ['tokenHash'], { unique: true })
@Index('ix_refresh_tokens_session_id', ['sessionId'])
export class RefreshTokenEntity {
  @PrimaryColumn(uuidColumn())
  id: string;

  @Column({ name: 'session_id', ...uuidColumn() })
  sessionId: string;

  @Column({ name: 'user_id', ...uuidColumn() })
  userId: string;

  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  @Column({ type: 'varchar', length: 16 })
  status: RefreshTokenStatus;

  @Column({ name: 'created_at', ...timestampColumn() })
  createdAt: Date;

  /** Inactivity expiry, capped by the session's absolute expiry. */
  @Column({ name: 'expires_at', ...timestampColumn() })
  expiresAt: Date;
}
