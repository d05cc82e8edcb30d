import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import fastifyCookie from '@fastify/cookie';
import { Logger, UnauthorizedException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  AuthEnv,
  createServiceLogger,
  requestIdFrom,
  strictValidationPipe,
  validateConfig,
} from '@baton/auth';
import { Headers } from '@baton/contracts';
import { CSRF_HEADER } from './app/browser-session';
import { CertificateReloader, readTlsPair } from './app/certificate-reload';
import { lingerIfBodyUnreadOnSend, lingeringClientError } from './app/client-error';
import { GatewayEnv, parseOrigins, tlsFiles, trustProxyOf } from './app/gateway.env';
import { GatewayModule } from './app/gateway.module';
import { HttpErrorFilter } from './app/http-error.filter';
import { setupOpenApi } from './app/openapi/openapi.setup';
import { logRequest } from './app/request-log';
import { securityHeaders } from './app/security-headers';

/** How many Authorization header lines a request carried (Node keeps only the first in `headers`). */
function authorizationLines(rawHeaders: string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === 'authorization') {
      count++;
    }
  }
  return count;
}

async function bootstrap(): Promise<void> {
  const env = validateConfig(GatewayEnv);
  const { outcomeLogger, nestLogger } = createServiceLogger('gateway', {
    level: validateConfig(AuthEnv).LOG_LEVEL,
  });
  const tls = tlsFiles(env);
  const pair = tls && readTlsPair(tls);
  const adapter = new FastifyAdapter({
    ...(pair ? { https: pair } : {}),
    bodyLimit: env.BODY_LIMIT_BYTES,
    // validated: never undefined here
    trustProxy: trustProxyOf(env.TRUST_PROXY) ?? false,
    clientErrorHandler: lingeringClientError,
    // The client's X-Request-Id when it is sane, otherwise a fresh one.
    genReqId: (req: IncomingMessage) => requestIdFrom(req.headers[Headers.requestId]),
  });
  const fastify = adapter.getInstance();
  // First, so that every answer carries the request id, a refusal by the next hook included.
  fastify.addHook('onRequest', (request, reply, done) => {
    // The call context (and so every NATS hop) takes the request id from this header.
    request.headers[Headers.requestId] = request.id;
    void reply.header(Headers.requestId, request.id);
    done();
  });
  // Two credentials are ambiguous: refuse them rather than silently verify only the first.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const ambiguous = authorizationLines(request.raw.rawHeaders) > 1;
    done(ambiguous ? new UnauthorizedException('Invalid or missing access token') : undefined);
  });
  // An answer that closes the connection before the body has all arrived closes it gently.
  fastify.addHook('onSend', lingerIfBodyUnreadOnSend);
  fastify.addHook('onResponse', (request, reply, done) => {
    logRequest(outcomeLogger, request, reply);
    done();
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule, adapter, {
    logger: nestLogger,
  });
  await registerWebSecurity(app, env, tls !== undefined);
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter(env.BODY_LIMIT_BYTES));
  app.enableShutdownHooks();
  setupOpenApi(app);
  await app.listen(env.GATEWAY_PORT, env.GATEWAY_HOST);
  const gatewayLogger = new Logger('gateway');
  if (tls && pair) {
    const server = app.getHttpServer() as unknown as HttpsServer;
    new CertificateReloader(server, tls, pair, gatewayLogger).watch(env.TLS_RELOAD_INTERVAL_MS);
  }
  // Nest names the protocol from its own httpsOptions, which the Fastify adapter does not use.
  const url = (await app.getUrl()).replace(/^https?:/, tls ? 'https:' : 'http:');
  if (!tls && !['development', 'test'].includes(process.env['NODE_ENV'] ?? '')) {
    gatewayLogger.warn(
      'serving plain HTTP: tokens and cookies cross the network in clear text; set ' +
        'TLS_CERT_FILE and TLS_KEY_FILE, or terminate TLS in front of the gateway',
    );
  }
  gatewayLogger.log(`gateway listening on ${url}`);
}

/**
 * @nestjs/platform-fastify pins its own copy of fastify, whose instance type the plugins' (typed
 * against the top-level fastify) do not match; at run time they are the same API.
 */
function nestPlugin<T>(plugin: T): Parameters<NestFastifyApplication['register']>[0] {
  return plugin as unknown as Parameters<NestFastifyApplication['register']>[0];
}

/**
 * Security headers (`securityHeaders`), cookie parsing for cookie mode, and CORS for the
 * allowlisted origins only (none by default).
 */
async function registerWebSecurity(
  app: NestFastifyApplication,
  env: GatewayEnv,
  https: boolean,
): Promise<void> {
  const setSecurityHeaders = securityHeaders(https);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      setSecurityHeaders(request.raw, reply.raw, () => done());
    });
  await app.register(nestPlugin(fastifyCookie));
  const allowed = new Set(parseOrigins(env.CORS_ORIGINS));
  app.enableCors({
    origin: (origin: string | undefined, cb: (err: Error | null, allow: boolean) => void) =>
      cb(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    exposedHeaders: [Headers.requestId, CSRF_HEADER],
    maxAge: 600,
  });
}

void bootstrap().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
