import { AuditEventEntity } from './audit-event.entity';
import { LoginThrottleEntity } from './login-throttle.entity';
import { RefreshTokenEntity } from './refresh-token.entity';
import { SessionEntity } from './session.entity';
import { SigningKeyEntity } from './signing-key.entity';
import { UserEntity } from './user.entity';

export {
  AuditEventEntity,
  LoginThrottleEntity,
  RefreshTokenEntity,
  SessionEntity,
  SigningKeyEntity,
  UserEntity,
};

export const AUTH_ENTITIES = [
  UserEntity,
  SigningKeyEntity,
  SessionEntity,
  RefreshTokenEntity,
  AuditEventEntity,
  LoginThrottleEntity,
];
