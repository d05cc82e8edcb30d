import 'reflect-metadata';
import { Logger, UnauthorizedException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { logLevels, strictValidationPipe, validateConfig } from '@baton/auth';
import { GatewayEnv } from './app/gateway.env';
import { GatewayModule } from './app/gateway.module';
import { HttpErrorFilter } from './app/http-error.filter';

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
  const adapter = new FastifyAdapter({
    bodyLimit: env.BODY_LIMIT_BYTES,
    trustProxy: env.TRUST_PROXY,
  });
  // Two credentials are ambiguous: refuse them rather than silently verify only the first.
  adapter.getInstance().addHook('onRequest', (request, _reply, done) => {
    const ambiguous = authorizationLines(request.raw.rawHeaders) > 1;
    done(ambiguous ? new UnauthorizedException('Invalid or missing access token') : undefined);
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule, adapter, {
    logger: logLevels(),
  });
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter(env.BODY_LIMIT_BYTES));
  app.enableShutdownHooks();
  await app.listen(env.GATEWAY_PORT, env.GATEWAY_HOST);
  new Logger('gateway').log(`gateway listening on ${await app.getUrl()}`);
}

void bootstrap().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
