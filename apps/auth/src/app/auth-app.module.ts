import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BatonAuthModule, HEALTH_PROBE, natsHealthController } from '@baton/auth';
import { Subjects } from '@baton/contracts';
import { DatabaseHealthProbe, serviceStoreModule } from '@baton/persistence';
import { AuditRetention } from './audit/audit-retention.service';
import { AuditService } from './audit/audit.service';
import { AdminController, AuthController } from './auth.controller';
import { AUTH_ENV, loadAuthServiceEnv } from './auth.env';
import { AUTH_ENTITIES } from './entities';
import { KeyRotation } from './keys/key-rotation.service';
import { LocalJwksSource, LocalServiceTokenSource } from './keys/local-key.sources';
import { SigningKeysService } from './keys/signing-keys.service';
import { InitialAuthSchema1732300000000 } from './migrations/1732300000000-initial-auth-schema';
import { AuditEventActor1732400000000 } from './migrations/1732400000000-audit-event-actor';
import { OneCurrentSigningKey1795397271517 } from './migrations/1795397271517-one-current-signing-key';
import { LoginThrottle1796416875909 } from './migrations/1796416875909-login-throttle';
import { EraseRetiredPrivateKeys1796419145507 } from './migrations/1796419145507-erase-retired-private-keys';
import { ServiceCredentials } from './tokens/service-credentials.service';
import { TokensService } from './tokens/tokens.service';
import { LoginThrottle } from './users/login-throttle.service';
import { PasswordHasher } from './users/password-hasher.service';
import { RegistrationThrottle } from './users/registration-throttle.service';
import { ThrottleCounts } from './users/throttle-counts';
import { UsersService } from './users/users.service';

@Module({
  imports: [
    BatonAuthModule.forRoot({ service: 'auth' }),
    serviceStoreModule('auth', AUTH_ENTITIES, [
      InitialAuthSchema1732300000000,
      AuditEventActor1732400000000,
      OneCurrentSigningKey1795397271517,
      LoginThrottle1796416875909,
      EraseRetiredPrivateKeys1796419145507,
    ]),
    TypeOrmModule.forFeature(AUTH_ENTITIES),
  ],
  controllers: [
    AuthController,
    AdminController,
    natsHealthController('auth', Subjects.auth.health),
  ],
  providers: [
    { provide: HEALTH_PROBE, useClass: DatabaseHealthProbe },
    { provide: AUTH_ENV, useFactory: () => loadAuthServiceEnv() },
    AuditService,
    AuditRetention,
    PasswordHasher,
    ThrottleCounts,
    LoginThrottle,
    RegistrationThrottle,
    SigningKeysService,
    KeyRotation,
    TokensService,
    UsersService,
    ServiceCredentials,
    LocalJwksSource,
    LocalServiceTokenSource,
  ],
})
export class AuthAppModule {}
