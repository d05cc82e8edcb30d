import { accessSync, constants, statSync } from 'node:fs';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
} from 'class-validator';
import { Type } from 'class-transformer';

const NATS_URLS = /^(nats|tls|ws|wss):\/\/[^\s,]+(,\s*(nats|tls|ws|wss):\/\/[^\s,]+)*$/;

/** A variable's value, with an empty one counting as unset. */
const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

type EnvProblem = (value: string | undefined, env: Record<string, unknown>) => string | undefined;

/** A check of one variable that may look at the others; the message names the variable. */
function EnvCheck(problem: EnvProblem): PropertyDecorator {
  return ValidateBy({
    name: 'envCheck',
    validator: {
      validate: (value, args) => problem(text(value), args?.object as never) === undefined,
      defaultMessage: (args) =>
        `${args?.property} ${problem(text(args?.value), args?.object as never) ?? ''}`,
    },
  });
}

/** Unset, or a regular file this process can read; and set when `partner` is. */
function readableFile(partner?: string): EnvProblem {
  return (path, env) => {
    if (path === undefined) {
      return partner && text(env[partner]) ? `must be set when ${partner} is` : undefined;
    }
    try {
      accessSync(path, constants.R_OK);
      return statSync(path).isFile() ? undefined : `must name a file (${path} is not one)`;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      return `must name a file this process can read (${path}: ${code})`;
    }
  };
}

/**
 * nats-server reads each service's password from its environment and parses it as a config token,
 * so only a token that stays a string is safe: a letter, then letters, digits, `-` and `_`.
 */
const NATS_PASSWORD = /^[A-Za-z][A-Za-z0-9_-]{15,}$/;

/** Environment every service reads through `@baton/auth`. */
export class AuthEnv {
  @Matches(NATS_URLS, { message: 'NATS_URL must be one or more comma-separated nats:// URLs' })
  NATS_URL = 'nats://127.0.0.1:4222';

  /** This service's own NATS user (deploy/nats/nats-server.conf has one per service). */
  @EnvCheck((user, env) =>
    !user && text(env['NATS_PASSWORD']) ? 'must be set when NATS_PASSWORD is' : undefined,
  )
  NATS_USER?: string;

  @EnvCheck((password, env) => {
    if (!password) {
      return text(env['NATS_USER']) ? 'must be set when NATS_USER is' : undefined;
    }
    return NATS_PASSWORD.test(password)
      ? undefined
      : 'must be 16 or more characters: a letter, then letters, digits, - or _ (nats-server reads it from its environment)';
  })
  NATS_PASSWORD?: string;

  /** CA that signed the NATS server's certificate: with it, the connection is TLS. */
  @EnvCheck(readableFile())
  NATS_TLS_CA_FILE?: string;

  /** This service's client certificate and its key (the server requires one with TLS). */
  @EnvCheck(readableFile('NATS_TLS_KEY_FILE'))
  NATS_TLS_CERT_FILE?: string;

  @EnvCheck(readableFile('NATS_TLS_CERT_FILE'))
  NATS_TLS_KEY_FILE?: string;

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

  /** How often each process fetches the JWKS again, so that a key auth no longer publishes is dropped. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(86_400_000)
  JWKS_REFRESH_INTERVAL_MS = 300_000;

  /** How many verified tokens each process remembers (0 turns the cache off). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  VERIFIED_TOKEN_CACHE_SIZE = 10_000;

  /** Replicas of the revocation bucket's stream when this process creates it (3 on a 3-node cluster). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5)
  NATS_KV_REPLICAS = 1;

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
