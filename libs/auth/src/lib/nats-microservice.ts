import { BadRequestException, HttpException, Logger, ValidationPipe } from '@nestjs/common';
import type { ArgumentMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice, LogLevel, Type } from '@nestjs/common';
import { Transport } from '@nestjs/microservices';
import { NatsRequestJSONDeserializer } from '@nestjs/microservices/deserializers';
import type { MicroserviceOptions } from '@nestjs/microservices';
import type { NatsConnection } from 'nats';
import { queueGroup } from '@baton/contracts';
import { AuthEnv, natsServers } from './config/auth-env';
import { validateConfig } from './config/validate-config';
import { RpcErrorFilter } from './errors/rpc-error.filter';

/**
 * Validation used at every hop: unknown fields are refused, not silently dropped, and a validator
 * that throws on hostile input (a lone surrogate in an email, `1e-7` for a price) is a bad request,
 * not a 500.
 */
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      const reserved = reservedKeyIn(value);
      if (reserved !== undefined) {
        throw new BadRequestException(`property ${reserved} should not exist`);
      }
    }
    try {
      return (await super.transform(value, metadata)) as unknown;
    } catch (err) {
      if (err instanceof HttpException) {
        throw err;
      }
      throw new BadRequestException('Request is malformed');
    }
  }
}

/**
 * A key that names a prototype member (`__proto__`, `constructor`, `toString`…) is never a field of
 * ours; class-transformer would drop it silently, so it is refused like any other unknown field.
 */
function reservedKeyIn(value: unknown, depth = 0): string | undefined {
  if (typeof value !== 'object' || value === null || depth > 32) {
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (key === '__proto__' || key === 'prototype' || key in Object.prototype) {
      return key;
    }
    const nested = reservedKeyIn((value as Record<string, unknown>)[key], depth + 1);
    if (nested !== undefined) {
      return nested;
    }
  }
  return undefined;
}

export const strictValidationPipe = (): ValidationPipe =>
  new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: false,
  });

/**
 * Nest's NATS deserializer throws on bytes that are not JSON, outside any handler, and the process
 * dies of the unhandled rejection. Here such a message becomes one whose payload every DTO refuses
 * (400 to a request; a refused event is dropped).
 */
class TolerantNatsDeserializer extends NatsRequestJSONDeserializer {
  override deserialize(value: Uint8Array, options?: Record<string, unknown>) {
    try {
      return super.deserialize(value, options);
    } catch {
      return {
        id: typeof options?.['replyTo'] === 'string' ? 'malformed' : undefined,
        pattern: options?.['channel'],
        data: { malformedPayload: 'message data is not JSON' },
      } as ReturnType<NatsRequestJSONDeserializer['deserialize']>;
    }
  }
}

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
      deserializer: new TolerantNatsDeserializer(),
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
