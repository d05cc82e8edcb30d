import { natsInboxPrefix } from '@baton/contracts';
import type { ConnectionOptions } from 'nats';
import { natsServers } from './config/auth-env';

/** The variables `natsConnectionOptions` reads: a validated `AuthEnv`, or `process.env` as is. */
export interface NatsConnectionEnv {
  NATS_URL?: string;
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_TLS_CA_FILE?: string;
  NATS_TLS_CERT_FILE?: string;
  NATS_TLS_KEY_FILE?: string;
}

export type NatsConnectionSettings = Pick<
  ConnectionOptions,
  | 'servers'
  | 'user'
  | 'pass'
  | 'tls'
  | 'inboxPrefix'
  | 'maxReconnectAttempts'
  | 'reconnectTimeWait'
  | 'timeout'
  | 'noAsyncTraces'
>;

/**
 * How this service connects to NATS, for every connection it makes (the Nest NATS server, the
 * `BATON_NATS_CLIENT` that the gateway and every service send with, health checks): its own user
 * when `NATS_USER`/`NATS_PASSWORD` are set, TLS (with a client certificate when one is given) when
 * `NATS_TLS_CA_FILE`/`NATS_TLS_CERT_FILE`/`NATS_TLS_KEY_FILE` are, and replies under its private
 * inbox prefix `_INBOX.<service>` (the only one its NATS permissions let it subscribe to).
 */
export function natsConnectionOptions(
  service: string,
  env: NatsConnectionEnv,
): NatsConnectionSettings {
  const settings: NatsConnectionSettings = {
    servers: natsServers(env.NATS_URL || 'nats://127.0.0.1:4222'),
    inboxPrefix: natsInboxPrefix(service),
    // Reconnect for ever, quickly, and give up on a node that does not answer within 2 s (the
    // default 20 s would stall a cluster recovery for that long).
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    timeout: 2000,
    // nats.js otherwise builds up to three Error objects (stack traces) for every request.
    noAsyncTraces: true,
  };
  if (env.NATS_USER) {
    settings.user = env.NATS_USER;
    settings.pass = env.NATS_PASSWORD;
  }
  if (natsTlsConfigured(env)) {
    settings.tls = {
      ...(env.NATS_TLS_CA_FILE ? { caFile: env.NATS_TLS_CA_FILE } : {}),
      ...(env.NATS_TLS_CERT_FILE ? { certFile: env.NATS_TLS_CERT_FILE } : {}),
      ...(env.NATS_TLS_KEY_FILE ? { keyFile: env.NATS_TLS_KEY_FILE } : {}),
    };
  }
  return settings;
}

function natsTlsConfigured(env: NatsConnectionEnv): boolean {
  return !!(env.NATS_TLS_CA_FILE || env.NATS_TLS_CERT_FILE || env.NATS_TLS_KEY_FILE);
}

/**
 * What is insecure about this NATS connection, for a start-up warning: plain text (tokens cross the
 * network readable) or no credentials (any process that reaches NATS can act as any service).
 * Nothing in development and tests (`NODE_ENV` `development` or `test`).
 */
export function natsSecurityWarnings(
  env: NatsConnectionEnv,
  nodeEnv = process.env['NODE_ENV'],
): string[] {
  if (nodeEnv === 'development' || nodeEnv === 'test') {
    return [];
  }
  const warnings: string[] = [];
  const urls = natsServers(env.NATS_URL || 'nats://127.0.0.1:4222');
  const tlsUrls = urls.every((url) => url.startsWith('tls://'));
  if (!natsTlsConfigured(env) && !tlsUrls) {
    warnings.push(
      'NATS connection is not encrypted: tokens cross the network in plain text. Set ' +
        'NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE (docs/operations.md)',
    );
  }
  if (!env.NATS_USER) {
    warnings.push(
      'NATS connection has no credentials: set NATS_USER and NATS_PASSWORD so that this service ' +
        'may publish and subscribe only to its own subjects (docs/operations.md)',
    );
  }
  return warnings;
}
