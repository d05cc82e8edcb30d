import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice, Type } from '@nestjs/common';
import { NatsContext, ServerNats } from '@nestjs/microservices';
import { NO_MESSAGE_HANDLER } from '@nestjs/microservices/constants';
import { NatsRequestJSONDeserializer } from '@nestjs/microservices/deserializers';
import type {
  MessageHandler,
  MicroserviceOptions,
  NatsOptions,
  ReadPacket,
} from '@nestjs/microservices';
import type { Msg, NatsConnection, Subscription, SubscriptionOptions } from 'nats';
import { isObservable } from 'rxjs';
import { isErrorBody, queueGroup } from '@baton/contracts';
import { AuthEnv, natsServers } from './config/auth-env';
import { validateConfig } from './config/validate-config';
import { natsConnectionOptions } from './nats-connection';
import { RpcErrorFilter, toErrorBody } from './errors/rpc-error.filter';
import { callFailure, runInCallScope } from './context/call-context';
import { createServiceLogger } from './logging/service-logger';
import type { OutcomeLogger } from './logging/service-logger';
import { strictValidationPipe } from './validation/strict-validation.pipe';

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

/** How long a stopping service waits for the requests it took to be answered. */
const SHUTDOWN_GRACE_MS = 10_000;

interface InFlight {
  /** Set once the request's reply publisher exists: its last reply finishes the request. */
  answering: boolean;
  /** Ends the message's accounting (once): `statusCode` when it failed. */
  finish(statusCode?: number): void;
}

/**
 * Baton's NATS server (`startNatsService` uses it).
 *
 * Each message is handled in a call scope of its own, which the guard fills with the caller's
 * identity for `BatonClient` to forward, and ends with one log line: subject, outcome and duration,
 * carrying the request id and caller (health probes at debug, the gateway and container checks ask
 * often). Both happen here rather than in Nest interceptors, which cost each message an RxJS chain
 * and an async resource per interceptor.
 *
 * Nest's NATS server closes its connection at once when the application stops, so a request still
 * being handled loses its reply. This one stops taking messages (its subscriptions drain: what NATS
 * already sent is handled, the queue-group peers get the rest), waits until every request it took
 * has been answered, then drains the connection, which flushes those answers.
 */
export class BatonNatsServer extends ServerNats {
  private readonly handlerSubscriptions: Subscription[] = [];
  private readonly pending = new WeakMap<Msg, InFlight>();
  private inFlight = 0;
  private idle?: () => void;

  constructor(
    options: NonNullable<NatsOptions['options']>,
    private readonly messageLog?: OutcomeLogger,
  ) {
    super(options);
  }

  override bindEvents(client: NatsConnection): void {
    // Nest keeps its subscriptions private; collect them here so that close() can drain them.
    super.bindEvents({
      subscribe: (subject: string, options?: SubscriptionOptions) => {
        const sub = client.subscribe(subject, options);
        this.handlerSubscriptions.push(sub);
        return sub;
      },
    });
  }

  /**
   * Our subjects are plain strings: look the handler up directly. Nest first tries `JSON.parse` on
   * every subject (for object patterns) and pays for a thrown SyntaxError on each message.
   */
  override getHandlerByPattern(pattern: string): MessageHandler | null {
    return this.messageHandlers.get(pattern) ?? super.getHandlerByPattern(pattern);
  }

  override handleMessage(channel: string, msg: Msg): Promise<void> {
    return runInCallScope(() => this.handleInScope(channel, msg));
  }

  override getPublisher(msg: Msg, id: string, ctx: NatsContext): (response: unknown) => unknown {
    const publish = super.getPublisher(msg, id, ctx) as (response: unknown) => unknown;
    const entry = this.pending.get(msg);
    if (!msg.reply || !entry) {
      return publish;
    }
    entry.answering = true;
    return (packet: unknown) => {
      try {
        return publish(packet);
      } finally {
        const { err, isDisposed } = packet as { err?: unknown; isDisposed?: boolean };
        if (err !== undefined) {
          entry.finish(isErrorBody(err) ? err.statusCode : (callFailure() ?? 500));
        } else if (isDisposed) {
          entry.finish();
        }
      }
    };
  }

  private async handleInScope(channel: string, msg: Msg): Promise<void> {
    const started = performance.now();
    const entry: InFlight = {
      answering: false,
      finish: this.track((statusCode) => this.logOutcome(channel, started, statusCode)),
    };
    this.pending.set(msg, entry);
    try {
      await this.dispatch(channel, msg);
    } catch (err) {
      entry.finish(toErrorBody(err).statusCode);
      throw err;
    }
    // A request is finished by its last reply (getPublisher); anything else once it has been handled.
    if (!entry.answering) {
      entry.finish(callFailure());
    }
  }

  /**
   * Nest's `ServerNats.handleMessage`, except that a handler's plain answer (what Baton's handlers
   * return) is published at once. Nest turns every answer into an RxJS stream, with an operator
   * chain and a subscription, and publishes it on the next tick: a cost on every message at every
   * hop. A stream, and the error stream an exception filter returns, still go Nest's way.
   */
  private async dispatch(channel: string, msg: Msg): Promise<void> {
    const ctx = new NatsContext([msg.subject, msg.headers]);
    const message = (await this.deserializer.deserialize(msg.data, {
      channel,
      replyTo: msg.reply,
    })) as { id?: string; data: unknown };
    if (message.id === undefined) {
      return this.handleEvent(channel, message as ReadPacket, ctx) as Promise<void>;
    }
    const publish = this.getPublisher(msg, message.id, ctx);
    const handler = this.getHandlerByPattern(channel);
    if (!handler) {
      publish({ id: message.id, status: 'error', err: NO_MESSAGE_HANDLER });
      return;
    }
    const handle = async (): Promise<void> => {
      const answer: unknown = await handler(message.data, ctx);
      if (isObservable(answer)) {
        this.send(answer, (packet) => void publish(packet));
      } else {
        publish({ response: answer, isDisposed: true });
      }
    };
    // Nest's default hook runs `handle` and returns its promise; a hook of one's own may not.
    return this.onProcessingStartHook(this.transportId, ctx, handle);
  }

  private logOutcome(subject: string, started: number, statusCode: number | undefined): void {
    if (!this.messageLog) {
      return;
    }
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    const level = subject.endsWith('.health') ? 'debug' : 'info';
    if (statusCode === undefined) {
      this.messageLog.write(level, { subject, durationMs }, 'message handled');
    } else {
      this.messageLog.write(
        statusCode >= 500 ? 'error' : level,
        { subject, statusCode, durationMs },
        'message failed',
      );
    }
  }

  override async close(): Promise<void> {
    let nc: NatsConnection | undefined;
    try {
      nc = this.unwrap<NatsConnection>();
    } catch {
      // never connected
    }
    if (nc && !nc.isClosed()) {
      const connection = nc;
      const drained = (async () => {
        await Promise.all(this.handlerSubscriptions.map((s) => s.drain().catch(() => undefined)));
        if (this.inFlight > 0) {
          this.logger.log(`stopping: answering ${this.inFlight} request(s) in flight`);
          await new Promise<void>((resolve) => (this.idle = resolve));
        }
        await connection.drain();
      })().then(
        () => true,
        () => true,
      );
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>(
        (r) => (timer = setTimeout(() => r(false), SHUTDOWN_GRACE_MS)),
      );
      if (!(await Promise.race([drained, late]))) {
        this.logger.warn(`stopping with ${this.inFlight} request(s) still in flight`);
      }
      clearTimeout(timer);
    }
    await super.close();
  }

  private track(onFinish: (statusCode?: number) => void): (statusCode?: number) => void {
    this.inFlight++;
    let done = false;
    return (statusCode) => {
      if (!done) {
        done = true;
        onFinish(statusCode);
        if (--this.inFlight === 0) {
          this.idle?.();
        }
      }
    };
  }
}

/**
 * Starts a Baton NATS service: one queue group per service so replicas share the load, strict
 * validation, errors as `{statusCode, error, message}`, and a clean shutdown on SIGTERM: no new
 * messages, the ones taken are answered, then the connections close.
 */
export async function startNatsService(
  service: string,
  module: Type<unknown>,
): Promise<INestMicroservice> {
  const env = validateConfig(AuthEnv);
  const { outcomeLogger, nestLogger } = createServiceLogger(service, { level: env.LOG_LEVEL });
  const options: NatsOptions['options'] = {
    ...natsConnectionOptions(service, env),
    queue: queueGroup(service),
    name: `${service}-server`,
    deserializer: new TolerantNatsDeserializer(),
  };
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(module, {
    strategy: new BatonNatsServer(options, outcomeLogger),
    logger: nestLogger,
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
