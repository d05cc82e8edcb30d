import { Global, Logger, Module, RequestMethod } from '@nestjs/common';
import type { DynamicModule, MiddlewareConsumer, NestModule, Provider } from '@nestjs/common';
import { APP_GUARD, HttpAdapterHost } from '@nestjs/core';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { ALGORITHM_ALLOWLIST, BATON_AUTH_OPTIONS, BATON_NATS_CLIENT } from './auth.constants';
import type { BatonAuthOptions } from './baton-auth.options';
import { AuthRuntime } from './auth-runtime';
import { BatonClient } from './client/baton-client';
import { NatsServiceTokenSource } from './client/nats-service-token.source';
import { ServiceTokenSource } from './client/service-token.source';
import { AuthEnv, natsServers } from './config/auth-env';
import { validateConfig } from './config/validate-config';
import { natsConnectionOptions, natsSecurityWarnings } from './nats-connection';
import { CallScopeMiddleware } from './context/call-context.binding';
import { runInCallScope } from './context/call-context';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { AccessTokenVerifier } from './verification/access-token.verifier';
import { VerifiedTokenCache } from './guards/verified-token-cache';
import { JwksSource } from './keys/jwks.source';
import { KeyStore } from './keys/key-store';
import { NatsJwksSource } from './keys/nats-jwks.source';
import { RevocationStore } from './revocation/revocation-store';

/** The part of a Fastify instance the call scope needs (libs/auth does not depend on Fastify). */
interface FastifyHooks {
  addHook(name: 'onRequest', hook: (req: unknown, reply: unknown, done: () => void) => void): void;
}

export interface BatonAuthModuleOptions {
  /** This service's name (`orders`, `profile`…). */
  service: string;
  /** Environment to read (tests); `process.env` by default. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Everything a Baton service needs to take part in the relay: a global guard that verifies tokens
 * on HTTP and NATS, `@Roles` enforcement, the call context that forwards the caller's identity,
 * `BatonClient` for outgoing requests, JWKS keys and the revocation list.
 */
@Global()
@Module({})
export class BatonAuthModule implements NestModule {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /**
   * Every HTTP request runs in a call scope of its own (NATS messages get theirs from the server).
   * On Fastify the scope opens in an `onRequest` hook, where Nest would run its middleware: a
   * middleware there goes through `@fastify/middie`, which cost each request its own walk of the
   * URL. Elsewhere (Express) it is Nest middleware for every route.
   */
  configure(consumer: MiddlewareConsumer): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() === 'fastify') {
      const fastify = adapter.getInstance<FastifyHooks>();
      fastify.addHook('onRequest', (_req, _reply, done) => runInCallScope(done));
      return;
    }
    consumer.apply(CallScopeMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }

  static forRoot(options: BatonAuthModuleOptions): DynamicModule {
    const env = validateConfig(AuthEnv, options.env ?? process.env);
    const resolved: BatonAuthOptions = {
      service: options.service,
      natsServers: natsServers(env.NATS_URL),
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      algorithms: ALGORITHM_ALLOWLIST,
      requestTimeoutMs: env.NATS_REQUEST_TIMEOUT_MS,
      accessTokenTtl: env.ACCESS_TOKEN_TTL,
      jwksRefetchIntervalMs: 10_000,
      jwksRefreshIntervalMs: env.JWKS_REFRESH_INTERVAL_MS,
      serviceSecret: env.SERVICE_SECRET,
      verifiedTokenCacheSize: env.VERIFIED_TOKEN_CACHE_SIZE,
      revocationReplicas: env.NATS_KV_REPLICAS,
    };
    const serviceTokens: Provider[] = resolved.serviceSecret
      ? [{ provide: ServiceTokenSource, useClass: NatsServiceTokenSource }]
      : [];
    return {
      module: BatonAuthModule,
      providers: [
        { provide: BATON_AUTH_OPTIONS, useValue: resolved },
        {
          provide: BATON_NATS_CLIENT,
          useFactory: () => {
            // Once per process: every Baton process (the gateway too) makes this client.
            for (const warning of natsSecurityWarnings(env)) {
              new Logger('BatonAuth').warn(warning);
            }
            return ClientProxyFactory.create({
              transport: Transport.NATS,
              options: {
                ...natsConnectionOptions(resolved.service, env),
                name: `${resolved.service}-client`,
              },
            });
          },
        },
        { provide: JwksSource, useClass: NatsJwksSource },
        ...serviceTokens,
        BatonClient,
        KeyStore,
        RevocationStore,
        AccessTokenVerifier,
        VerifiedTokenCache,
        AuthRuntime,
        { provide: APP_GUARD, useClass: JwtAuthGuard },
      ],
      exports: [BATON_AUTH_OPTIONS, BatonClient, KeyStore, RevocationStore],
    };
  }
}
