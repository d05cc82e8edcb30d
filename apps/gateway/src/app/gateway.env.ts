import { accessSync, constants } from 'node:fs';
import {
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
  registerDecorator,
} from 'class-validator';
import type { ValidationArguments } from 'class-validator';
import { Transform, Type } from 'class-transformer';

const isSet = (value: unknown): boolean => typeof value === 'string' && value !== '';

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** A file path that must be readable and set together with `partner` (both or neither). */
function IsTlsFile(partner: 'TLS_CERT_FILE' | 'TLS_KEY_FILE') {
  return (object: object, propertyName: string): void => {
    registerDecorator({
      name: 'isTlsFile',
      target: object.constructor,
      propertyName,
      validator: {
        validate(value: unknown, args: ValidationArguments): boolean {
          const other = (args.object as Record<string, unknown>)[partner];
          if (!isSet(value)) {
            return !isSet(other);
          }
          return readable(value as string);
        },
        defaultMessage(args: ValidationArguments): string {
          return isSet(args.value)
            ? `${args.property} must name a readable file (${String(args.value)} is not)`
            : `${args.property} must be set together with ${partner} (both or neither)`;
        },
      },
    });
  };
}

/** Comma-separated exact origins such as `https://app.example.com` (no paths, no wildcards). */
function IsOriginList() {
  return (object: object, propertyName: string): void => {
    registerDecorator({
      name: 'isOriginList',
      target: object.constructor,
      propertyName,
      validator: {
        validate: (value: unknown): boolean =>
          typeof value === 'string' && parseOrigins(value) !== undefined,
        defaultMessage: (args: ValidationArguments): string =>
          `${args.property} must be comma-separated origins such as https://app.example.com ` +
          '(scheme, host and port only; no wildcard)',
      },
    });
  };
}

/** The origins of a CORS_ORIGINS value, or undefined when one of them is not an exact origin. */
export function parseOrigins(value: string): string[] | undefined {
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const entry of entries) {
    try {
      const url = new URL(entry);
      if (url.origin !== entry || !/^https?:$/.test(url.protocol)) {
        return undefined;
      }
    } catch {
      return undefined;
    }
  }
  return entries;
}

export class GatewayEnv {
  @Type(() => Number)
  @IsInt({ message: 'GATEWAY_PORT must be a port number' })
  @Min(0)
  @Max(65_535)
  GATEWAY_PORT = 3000;

  @IsString()
  GATEWAY_HOST = '127.0.0.1';

  /** Trust X-Forwarded-For from a proxy in front of the gateway (for client addresses). */
  @Transform(({ value }) => value === true || value === 'true' || value === '1')
  @IsBoolean()
  TRUST_PROXY = false;

  /** The largest request body accepted, in bytes. */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(10 * 1024 * 1024)
  BODY_LIMIT_BYTES = 64 * 1024;

  /** PEM certificate (chain) for HTTPS; with TLS_KEY_FILE. Neither: plain HTTP. */
  @IsTlsFile('TLS_KEY_FILE')
  TLS_CERT_FILE?: string;

  /** PEM private key for HTTPS; with TLS_CERT_FILE. */
  @IsTlsFile('TLS_CERT_FILE')
  TLS_KEY_FILE?: string;

  /** How often the TLS files are read again, so that a renewed certificate is served, in ms. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(86_400_000)
  TLS_RELOAD_INTERVAL_MS = 60_000;

  /** Browser origins allowed by CORS, comma-separated exact origins. Empty: none. */
  @IsOptional()
  @IsOriginList()
  CORS_ORIGINS = '';

  /** Max-Age of the cookie-mode refresh cookie, in seconds: set it to auth's REFRESH_TOKEN_TTL. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  REFRESH_TOKEN_TTL = 14 * 86_400;
}

/** The certificate and key files when the gateway serves HTTPS, otherwise undefined. */
export function tlsFiles(env: GatewayEnv): { cert: string; key: string } | undefined {
  return isSet(env.TLS_CERT_FILE) && isSet(env.TLS_KEY_FILE)
    ? { cert: env.TLS_CERT_FILE as string, key: env.TLS_KEY_FILE as string }
    : undefined;
}
