import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '@baton/persistence';

/**
 * The failed logins counted for one account or one client address in the current window, shared by
 * every auth replica. The key is a SHA-256 of what is counted, never the email or address itself.
 */
@Entity({ name: 'login_throttle' })
@Index('ix_login_throttle_window_started_at', ['windowStartedAt'])
export class LoginThrottleEntity {
  @PrimaryColumn({ name: 'key_hash', type: 'varchar', length: 64 })
  keyHash: string;

  @Column({ type: 'integer' })
  failures: number;

  @Column({ name: 'window_started_at', ...timestampColumn() })
  windowStartedAt: Date;

  /** Attempts are refused until then; the window's start while nothing is blocked. */
  @Column({ name: 'blocked_until', ...timestampColumn() })
  blockedUntil: Date;
}
