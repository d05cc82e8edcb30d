import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AuditQueryDto,
  LoginDto,
  LogoutDto,
  RefreshDto,
  RegisterDto,
  ServiceTokenDto,
  SetRolesDto,
  Subjects,
  UserIdDto,
} from '@baton/contracts';
import type { AuditEventView, Jwks, TokenPair, UserView } from '@baton/contracts';
import { CurrentUser, Public, Roles } from '@baton/auth';
import type { Principal } from '@baton/auth';
import { AuditService } from './audit/audit.service';
import { KeyRotation } from './keys/key-rotation.service';
import { SigningKeysService } from './keys/signing-keys.service';
import { ServiceCredentials } from './tokens/service-credentials.service';
import { TokensService } from './tokens/tokens.service';
import { UsersService } from './users/users.service';

/** Answers of a revocation: the bucket sequence the caller may wait for before it replies. */
export interface RevocationAck {
  revocationSeq: number;
}

@Controller()
export class AuthController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokensService,
    private readonly keys: SigningKeysService,
    private readonly credentials: ServiceCredentials,
  ) {}

  @Public()
  @MessagePattern(Subjects.auth.register)
  register(@Payload() dto: RegisterDto): Promise<UserView> {
    return this.users.register(dto);
  }

  @Public()
  @MessagePattern(Subjects.auth.login)
  login(@Payload() dto: LoginDto): Promise<TokenPair> {
    return this.users.login(dto);
  }

  @Public()
  @MessagePattern(Subjects.auth.refresh)
  refresh(@Payload() dto: RefreshDto): Promise<TokenPair> {
    return this.tokens.refresh(dto.refreshToken, (id) => this.users.rolesOf(id));
  }

  @MessagePattern(Subjects.auth.logout)
  async logout(@CurrentUser() user: Principal, @Payload() dto: LogoutDto): Promise<RevocationAck> {
    return { revocationSeq: await this.tokens.logout(user, dto.refreshToken) };
  }

  @MessagePattern(Subjects.auth.me)
  me(@CurrentUser() user: Principal): Promise<UserView> {
    return this.users.get(user.sub);
  }

  @Public()
  @MessagePattern(Subjects.auth.jwks)
  jwks(): Promise<Jwks> {
    return this.keys.jwks();
  }

  @Public()
  @MessagePattern(Subjects.auth.serviceToken)
  serviceToken(
    @Payload() dto: ServiceTokenDto,
  ): Promise<Pick<TokenPair, 'accessToken' | 'expiresIn'>> {
    return this.credentials.issue(dto);
  }
}

@Roles('admin')
@Controller()
export class AdminController {
  constructor(
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly keyRotation: KeyRotation,
  ) {}

  @MessagePattern(Subjects.auth.admin.setRoles)
  setRoles(@Payload() dto: SetRolesDto): Promise<UserView> {
    return this.users.setRoles(dto.id, dto.roles);
  }

  @MessagePattern(Subjects.auth.admin.revokeUser)
  async revokeUser(@Payload() dto: UserIdDto): Promise<RevocationAck> {
    return { revocationSeq: await this.users.revokeAll(dto.id) };
  }

  @MessagePattern(Subjects.auth.admin.audit)
  auditLog(@Payload() dto: AuditQueryDto): Promise<AuditEventView[]> {
    return this.audit.query(dto);
  }

  @MessagePattern(Subjects.auth.admin.rotateKeys)
  async rotateKeys(): Promise<{ kid: string }> {
    return { kid: await this.keyRotation.rotate() };
  }
}
