import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { Type } from 'class-transformer';

const NATS_URLS = /^(nats|tls|ws|wss):\/\/[^\s,]+(,\s*(nats|tls|ws|wss):\/\/[^\s,]+)*$/;

/** Environment every service reads through `@baton/auth`. */
export class AuthEnv {
  @Matches(NATS_URLS, { message: 'NATS_URL must be one or more comma-separated nats:// URLs' })
  NATS_URL = 'nats://127.0.0.1:4222';

  @IsString()
  @MinLength(1)
  JWT_ISSUER = 'baton-auth';

  @IsString()
  @MinLength(1)
  JWT_AUDIENCE = 'baton';

  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(120_000)
  NATS_REQUEST_TIMEOUT_MS = 5000;

  /** This service's own credentials for `auth.service-token` (services that act on their own). */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'SERVICE_SECRET must be at least 16 characters long' })
  SERVICE_SECRET?: string;

  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(86_400)
  ACCESS_TOKEN_TTL = 900;

  /** How many verified tokens each process remembers (0 turns the cache off). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  VERIFIED_TOKEN_CACHE_SIZE = 10_000;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL?: string;
}

export function natsServers(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
