import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { logLevels, strictValidationPipe, validateConfig } from '@baton/auth';
import { GatewayEnv } from './app/gateway.env';
import { GatewayModule } from './app/gateway.module';
import { HttpErrorFilter } from './app/http-error.filter';

async function bootstrap(): Promise<void> {
  const env = validateConfig(GatewayEnv);
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule,
    new FastifyAdapter({ bodyLimit: env.BODY_LIMIT_BYTES, trustProxy: env.TRUST_PROXY }),
    { logger: logLevels() },
  );
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter());
  app.enableShutdownHooks();
  await app.listen(env.GATEWAY_PORT, env.GATEWAY_HOST);
  new Logger('gateway').log(`gateway listening on ${await app.getUrl()}`);
}

void bootstrap().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
