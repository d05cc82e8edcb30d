import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { Repository } from 'typeorm';
import { Events, normalizeEmail } from '@baton/contracts';
import { isUniqueViolation, runExclusive, Sql } from '@baton/persistence';
import type { LoginDto, RegisterDto, Role, TokenPair, UserView } from '@baton/contracts';
import { BatonClient, currentCallContext } from '@baton/auth';
import { AuditService } from '../audit/audit.service';
import { AUTH_ENV, AuthServiceEnv } from '../auth.env';
import { AuthErrorCode, AuthException } from '../auth.exception';
import { UserEntity } from '../entities';
import { TokensService } from '../tokens/tokens.service';
import { LoginThrottle } from './login-throttle.service';
import { PasswordHasher } from './password-hasher.service';
import { RegistrationThrottle } from './registration-throttle.service';

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);

  /** The read behind `GET /auth/me`, on every call. */
  private readonly byId: (id: string) => Promise<UserEntity | undefined>;

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly passwords: PasswordHasher,
    private readonly tokens: TokensService,
    private readonly throttle: LoginThrottle,
    private readonly registrations: RegistrationThrottle,
    private readonly audit: AuditService,
    private readonly client: BatonClient,
    @Inject(AUTH_ENV) private readonly env: AuthServiceEnv,
  ) {
    this.byId = new Sql(users.manager.connection).finder(UserEntity, ['id']);
  }

  /**
   * Creates the first admin from BATON_ADMIN_EMAIL / BATON_ADMIN_PASSWORD when absent. Replicas
   * starting together check and insert under the store's lock, so one of them creates it.
   */
  async onApplicationBootstrap(): Promise<void> {
    const email = this.env.BATON_ADMIN_EMAIL && normalizeEmail(this.env.BATON_ADMIN_EMAIL);
    const password = this.env.BATON_ADMIN_PASSWORD;
    if (!email || !password || (await this.users.existsBy({ email }))) {
      return;
    }
    const admin = this.newUser(email, await this.passwords.hash(password), ['user', 'admin']);
    const created = await runExclusive(this.users.manager.connection, async (tx) => {
      const users = tx.getRepository(UserEntity);
      if (await users.existsBy({ email })) {
        return false;
      }
      try {
        await users.insert(admin);
        return true;
      } catch (err) {
        // the email was registered meanwhile (register does not take the lock): the index refused it
        if (isUniqueViolation(err)) {
          return false;
        }
        throw err;
      }
    });
    if (created) {
      this.logger.log('created the first admin account from BATON_ADMIN_EMAIL');
    }
  }

  async register(dto: RegisterDto): Promise<UserView> {
    const wait = await this.registrations.attempt(currentCallContext()?.clientIp);
    if (wait > 0) {
      await this.audit.record({ type: 'register.throttled', detail: { retryAfter: wait } });
      throw new AuthException(AuthErrorCode.TooManyRegistrations, undefined, wait);
    }
    const user = await this.create(dto.email, dto.password, ['user']);
    await this.audit.record({ type: 'user.registered', userId: user.id });
    try {
      await this.client.emit(
        Events.userRegistered,
        { userId: user.id, displayName: dto.displayName },
        { asService: true },
      );
    } catch (err) {
      // Profiles are also created on first read, so a lost event loses nothing.
      this.logger.warn(`could not publish ${Events.userRegistered}: ${String(err)}`);
    }
    return this.map(user);
  }

  async login(dto: LoginDto): Promise<TokenPair> {
    const email = normalizeEmail(dto.email);
    const address = currentCallContext()?.clientIp;
    const wait = await this.throttle.retryAfter(email, address);
    if (wait > 0) {
      await this.audit.record({ type: 'login.throttled', detail: { retryAfter: wait } });
      throw new AuthException(AuthErrorCode.TooManyAttempts, undefined, wait);
    }
    const user = await this.users.findOneBy({ email });
    if (!(await this.passwords.verify(user?.passwordHash, dto.password)) || !user) {
      await this.throttle.failed(email, address);
      await this.audit.record({ type: 'login.failed', userId: user?.id ?? null });
      throw new AuthException(AuthErrorCode.InvalidCredentials);
    }
    await this.throttle.succeeded(email);
    const pair = await this.tokens.startSession(user.id, user.roles);
    await this.audit.record({ type: 'login.succeeded', userId: user.id, actorId: user.id });
    return pair;
  }

  async get(id: string): Promise<UserView> {
    const user = await this.byId(id);
    if (!user) {
      throw new AuthException(AuthErrorCode.UserNotFound);
    }
    return this.map(user);
  }

  async rolesOf(id: string): Promise<Role[] | undefined> {
    return (await this.users.findOne({ where: { id }, select: { id: true, roles: true } }))?.roles;
  }

  /** Changes a user's roles; their existing tokens are refused from then on. */
  async setRoles(id: string, roles: Role[]): Promise<UserView> {
    const user = await this.users.findOneBy({ id });
    if (!user) {
      throw new AuthException(AuthErrorCode.UserNotFound);
    }
    const before = user.roles;
    user.roles = [...new Set<Role>(['user', ...roles])];
    user.updatedAt = new Date();
    await this.users.update({ id }, { roles: user.roles, updatedAt: user.updatedAt });
    await this.tokens.revokeAllSessions(id, 'roles-changed');
    await this.audit.record({
      type: 'roles.changed',
      userId: id,
      detail: { before, after: user.roles },
    });
    return this.map(user);
  }

  async revokeAll(id: string): Promise<number> {
    if (!(await this.users.existsBy({ id }))) {
      throw new AuthException(AuthErrorCode.UserNotFound);
    }
    const seq = await this.tokens.revokeAllSessions(id, 'admin-revoke');
    await this.audit.record({ type: 'user.revoked', userId: id });
    return seq;
  }

  private async create(rawEmail: string, password: string, roles: Role[]): Promise<UserEntity> {
    const email = normalizeEmail(rawEmail);
    if (await this.users.existsBy({ email })) {
      throw new AuthException(AuthErrorCode.EmailTaken);
    }
    const user = this.newUser(email, await this.passwords.hash(password), roles);
    try {
      await this.users.insert(user);
    } catch (err) {
      // registered meanwhile: the unique index refused it
      if (isUniqueViolation(err)) {
        throw new AuthException(AuthErrorCode.EmailTaken);
      }
      throw err;
    }
    return user;
  }

  private newUser(email: string, passwordHash: string, roles: Role[]): UserEntity {
    const now = new Date();
    return this.users.create({
      id: randomUUID(),
      email,
      passwordHash,
      roles,
      createdAt: now,
      updatedAt: now,
    });
  }

  private map(user: UserEntity): UserView {
    return { id: user.id, email: user.email, roles: user.roles };
  }
}
