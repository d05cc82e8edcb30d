import {
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';
import { Type } from 'class-transformer';
import { ALGORITHM_ALLOWLIST, AuthEnv, validateConfig } from '@baton/auth';
import { FitsOnceNormalized } from '@baton/contracts';
import type { AllowedAlgorithm } from '@baton/auth';

/**
 * The auth service's own settings (DESIGN.md, Configuration), beside those every service reads
 * (issuer, audience, access-token lifetime, NATS).
 */
export class AuthServiceEnv extends AuthEnv {
  @IsIn(ALGORITHM_ALLOWLIST, { message: 'JWT_ALG must be RS256, ES256 or EdDSA' })
  JWT_ALG: AllowedAlgorithm = 'RS256';

  /** Inactivity lifetime of a refresh token, in seconds. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(31_536_000)
  REFRESH_TOKEN_TTL = 14 * 86_400;

  /** Absolute lifetime of a login session (refresh family), in seconds. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(31_536_000)
  SESSION_MAX_TTL = 30 * 86_400;

  /** A signing key this many days old is replaced by a new one; 0 rotates only when asked. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3650)
  KEY_ROTATION_DAYS = 90;

  /** Audit events older than this many days are deleted; 0 keeps them all. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(36_500)
  AUDIT_RETENTION_DAYS = 365;

  @IsOptional()
  @IsEmail({}, { message: 'BATON_ADMIN_EMAIL must be an email address' })
  @FitsOnceNormalized()
  BATON_ADMIN_EMAIL?: string;

  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'BATON_ADMIN_PASSWORD must be at least 12 characters long' })
  BATON_ADMIN_PASSWORD?: string;

  /** Encrypts signing keys at rest when set. */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'KEY_ENCRYPTION_SECRET must be at least 32 characters long' })
  KEY_ENCRYPTION_SECRET?: string;

  /** Credentials of the services that may ask for a service token: `name:secret,name:secret`. */
  @IsOptional()
  @Matches(/^[a-z][a-z0-9-]*:[^\s,:]{16,}(,[a-z][a-z0-9-]*:[^\s,:]{16,})*$/, {
    message:
      'SERVICE_CREDENTIALS must be name:secret pairs (secrets of 16+ characters), comma-separated',
  })
  SERVICE_CREDENTIALS?: string;
}

export const AUTH_ENV = Symbol('AUTH_ENV');

export function loadAuthServiceEnv(env: NodeJS.ProcessEnv = process.env): AuthServiceEnv {
  const config = validateConfig(AuthServiceEnv, env);
  if (Boolean(config.BATON_ADMIN_EMAIL) !== Boolean(config.BATON_ADMIN_PASSWORD)) {
    throw new Error(
      'Invalid configuration:\n  BATON_ADMIN_EMAIL and BATON_ADMIN_PASSWORD must be set together',
    );
  }
  return config;
}
