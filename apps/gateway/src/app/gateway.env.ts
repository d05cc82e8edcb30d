import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { IsInt, IsOptional, IsString, Max, Min, registerDecorator } from 'class-validator';
import type { ValidationArguments } from 'class-validator';
import { Type } from 'class-transformer';

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

/** proxy-addr's names for address ranges, as Fastify's `trustProxy` takes them. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * An address (`10.0.0.7`), a subnet (`10.0.0.0/8`, `fd00::/8`) or a range name (`loopback`), as
 * Node reads addresses. Fastify's own parser (`@fastify/proxy-addr`) is laxer: it takes `1` as
 * 0.0.0.1 and `012.0.0.1` as 10.0.0.1, so a hop count would start as an address nobody connects
 * from. A subnet of every address (`/0`) is refused, as Fastify refuses it.
 */
function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) {
    return true;
  }
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) {
    return false;
  }
  return (
    prefix === undefined ||
    (/^\d{1,3}$/.test(prefix) && Number(prefix) >= 1 && Number(prefix) <= (family === 4 ? 32 : 128))
  );
}

/**
 * The proxies whose X-Forwarded-For entries the gateway believes, as Fastify's `trustProxy`, from
 * a TRUST_PROXY value; undefined when the value is neither of these:
 * - `false`, `0` or empty: none; the client address is the one the connection came from;
 * - comma-separated addresses, subnets or proxy-addr's range names (`loopback`, `linklocal`,
 *   `uniquelocal`): the proxies at those addresses. A request that comes from one of them is from
 *   the last address in its X-Forwarded-For that is not one of them; what a client writes in the
 *   header itself comes before the entry its proxy added, and is not believed.
 *
 * `true` (believe every entry, which the client may have written) and a hop count (which Fastify
 * ignores, since it cannot tell a proxy from a client that connects directly) are refused.
 */
export function trustProxyOf(value: string): false | string[] | undefined {
  const text = value.trim();
  if (text === '' || text === 'false' || text === '0') {
    return false;
  }
  const entries = text.split(',').map((s) => s.trim());
  return entries.every(isProxyAddress) ? entries : undefined;
}

function IsTrustProxy() {
  return (object: object, propertyName: string): void => {
    registerDecorator({
      name: 'isTrustProxy',
      target: object.constructor,
      propertyName,
      validator: {
        validate: (value: unknown): boolean =>
          typeof value === 'string' && trustProxyOf(value) !== undefined,
        defaultMessage: (args: ValidationArguments): string =>
          `${args.property} must be false or the comma-separated addresses or subnets of the ` +
          'proxies in front of the gateway (such as 10.0.0.0/8 or loopback)',
      },
    });
  };
}

export class GatewayEnv {
  @Type(() => Number)
  @IsInt({ message: 'GATEWAY_PORT must be a port number' })
  @Min(0)
  @Max(65_535)
  GATEWAY_PORT = 3000;

  @IsString()
  GATEWAY_HOST = '127.0.0.1';

  /** The proxies in front of the gateway whose X-Forwarded-For entries count (`trustProxyOf`). */
  @IsTrustProxy()
  TRUST_PROXY = 'false';

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
