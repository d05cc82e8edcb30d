import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  isISO8601,
  isRFC3339,
} from 'class-validator';
import { IsStorableText, IsWellFormed } from './well-formed.validator';
import { Type } from 'class-transformer';

export const ROLES = ['user', 'admin', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** An email as accounts are kept and looked up: trimmed, in lower case. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** The longest email an account may have (RFC 5321's limit), as kept (`normalizeEmail`). */
export const EMAIL_MAX_LENGTH = 254;

/**
 * At most EMAIL_MAX_LENGTH characters once normalized: lower case can be longer than what was
 * sent ('İ' becomes 'i' and a combining dot), and the account could not be stored.
 */
export const FitsOnceNormalized = (): PropertyDecorator =>
  ValidateBy({
    name: 'fitsOnceNormalized',
    validator: {
      validate: (value: unknown) =>
        typeof value !== 'string' || normalizeEmail(value).length <= EMAIL_MAX_LENGTH,
      defaultMessage: () =>
        `$property must be at most ${EMAIL_MAX_LENGTH} characters long in lower case`,
    },
  });

export class RegisterDto {
  @ApiProperty({ format: 'email', maxLength: EMAIL_MAX_LENGTH, example: 'ada@example.com' })
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(EMAIL_MAX_LENGTH)
  @FitsOnceNormalized()
  @IsStorableText()
  email: string;

  @ApiProperty({ format: 'password', minLength: 12, maxLength: 256 })
  @IsString()
  @MinLength(12, { message: 'password must be at least 12 characters long' })
  @MaxLength(256)
  @IsWellFormed()
  password: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsStorableText()
  displayName?: string;
}

export class LoginDto {
  @ApiProperty({ maxLength: EMAIL_MAX_LENGTH, example: 'ada@example.com' })
  @IsString()
  @MaxLength(EMAIL_MAX_LENGTH)
  @IsStorableText()
  email: string;

  @ApiProperty({ format: 'password', maxLength: 256 })
  @IsString()
  @MaxLength(256)
  @IsWellFormed()
  password: string;
}

export class RefreshDto {
  @ApiProperty({ maxLength: 512 })
  @IsString()
  @MaxLength(512)
  refreshToken: string;
}

export class LogoutDto {
  @ApiPropertyOptional({ maxLength: 512 })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  refreshToken?: string;
}

/**
 * A service's name: lower case, at most 60 characters, so that its subject `svc:<name>` fits where
 * user ids are kept (64 characters).
 */
export const SERVICE_NAME = /^[a-z][a-z0-9-]{0,59}$/;

export class ServiceTokenDto {
  @IsString()
  @Matches(SERVICE_NAME, {
    message: 'service must be a lower-case service name of at most 60 characters',
  })
  service: string;

  @IsString()
  @MinLength(16)
  @MaxLength(512)
  secret: string;
}

export class UserIdDto {
  @IsUUID('4', { message: 'id must be a UUID' })
  id: string;
}

export class SetRolesBodyDto {
  @ApiProperty({ enum: ['user', 'admin'], isArray: true, maxItems: ROLES.length })
  @IsArray()
  @ArrayMaxSize(ROLES.length)
  @IsIn(['user', 'admin'], { each: true, message: 'roles may contain only "user" and "admin"' })
  roles: Role[];
}

export class SetRolesDto extends SetRolesBodyDto {
  @IsUUID('4', { message: 'id must be a UUID' })
  id: string;
}

export const AUDIT_EVENT_TYPES = [
  'user.registered',
  'login.succeeded',
  'login.failed',
  'login.throttled',
  'register.throttled',
  'token.refreshed',
  'refresh.reused',
  'logout',
  'session.revoked',
  'user.revoked',
  'roles.changed',
  'keys.rotated',
  'service-token.issued',
  'service-token.refused',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/**
 * One instant: an RFC 3339 date and time with its offset, on a day the calendar has, that
 * JavaScript reads. ISO 8601 alone also allows week and ordinal dates and signed years, which
 * JavaScript cannot read, and a time without an offset, which it would read in the host's zone.
 */
const IsInstant = (): PropertyDecorator =>
  ValidateBy({
    name: 'isInstant',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' &&
        isRFC3339(value) &&
        isISO8601(value, { strict: true }) &&
        !Number.isNaN(Date.parse(value)),
      defaultMessage: () =>
        '$property must be an RFC 3339 date and time with its offset, such as 2026-12-01T00:00:00Z',
    },
  });

/** An audit actor: a user id (UUID v4) or `svc:<name>`. */
const AUDIT_ACTOR =
  /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|svc:[a-z][a-z0-9-]{0,59})$/;

export class AuditQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('4', { message: 'userId must be a UUID' })
  userId?: string;

  @ApiPropertyOptional({
    pattern: AUDIT_ACTOR.source,
    description: 'Only the events this caller caused: a user id, or `svc:<name>` for a service.',
  })
  @IsOptional()
  @IsString()
  @Matches(AUDIT_ACTOR, { message: 'actorId must be a user id (UUID) or svc:<name>' })
  actorId?: string;

  @ApiPropertyOptional({ enum: [...AUDIT_EVENT_TYPES] })
  @IsOptional()
  @IsIn([...AUDIT_EVENT_TYPES], { message: 'type is not a known audit event type' })
  type?: AuditEventType;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'The next page: only the events older than this one, which is the last event of the page ' +
      'before. An event that is no longer kept (past the retention) has none older left: the page ' +
      'is empty.',
  })
  @IsOptional()
  @IsUUID('4', { message: 'before must be the id of an audit event' })
  before?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'Only the events at or after this time: an RFC 3339 date and time with its offset, such as ' +
      '2026-12-01T00:00:00Z.',
  })
  @IsOptional()
  @IsInstant()
  since?: string;
}

export interface UserView {
  id: string;
  email: string;
  roles: Role[];
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface AuditEventView {
  id: string;
  type: AuditEventType;
  /** The subject: a user id or `svc:<name>`. */
  userId: string | null;
  /** The verified caller who caused the event; null when no one was authenticated. */
  actorId: string | null;
  sessionId: string | null;
  requestId: string | null;
  clientIp: string | null;
  detail: Record<string, unknown> | null;
  createdAt: string;
}

export interface PublicJwk {
  kty: string;
  kid: string;
  alg: string;
  use: 'sig';
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

export interface Jwks {
  keys: PublicJwk[];
}

export interface HealthView {
  status: 'ok' | 'error';
  service: string;
  checks: Record<string, 'up' | 'down'>;
}
