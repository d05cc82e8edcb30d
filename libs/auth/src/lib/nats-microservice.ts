import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice, LogLevel, Type } from '@nestjs/common';
import { Transport } from '@nestjs/microservices';
import type { MicroserviceOptions } from '@nestjs/microservices';
import type { NatsConnection } from 'nats';
import { queueGroup } from '@baton/contracts';
import { AuthEnv, natsServers } from './config/auth-env';
import { validateConfig } from './config/validate-config';
import { RpcErrorFilter } from './errors/rpc-error.filter';

/** Validation used at every hop: unknown fields are refused, not silently dropped. */
export const strictValidationPipe = (): ValidationPipe =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: false,
  });

export function logLevels(level = process.env['LOG_LEVEL'] ?? 'log'): LogLevel[] {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const at = order.indexOf(level as LogLevel);
  return order.slice(0, at < 0 ? 4 : at + 1);
}

/**
 * Starts a Baton NATS service: one queue group per service so replicas share the load, strict
 * validation, errors as `{statusCode, error, message}`, and a clean shutdown on SIGTERM.
 */
export async function startNatsService(
  service: string,
  module: Type<unknown>,
): Promise<INestMicroservice> {
  const env = validateConfig(AuthEnv);
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(module, {
    transport: Transport.NATS,
    options: {
      servers: natsServers(env.NATS_URL),
      queue: queueGroup(service),
      name: `${service}-server`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    },
    logger: logLevels(env.LOG_LEVEL),
  });
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalFilters(new RpcErrorFilter());
  app.enableShutdownHooks();
  await app.listen();
  // The subscriptions are only sent; once flushed, the server routes requests to this instance.
  await app.unwrap<NatsConnection>().flush();
  new Logger(service).log(
    `${service} is listening on NATS (${natsServers(env.NATS_URL).join(', ')})`,
  );
  return app;
}
