import { Inject, Injectable, Optional, ServiceUnavailableException } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { ClientNats } from '@nestjs/microservices';
import { ErrorCode, headers as natsHeaders, NatsError } from 'nats';
import type { MsgHdrs, NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { Headers, isErrorBody } from '@baton/contracts';
import { BATON_AUTH_OPTIONS, BATON_NATS_CLIENT } from '../auth.constants';
import type { BatonAuthOptions } from '../baton-auth.options';
import { currentCallContext } from '../context/call-context';
import type { CallContext } from '../context/call-context';
import { RemoteException } from '../errors/remote.exception';
import { ReplyMux } from './reply-mux';
import { ServiceTokenSource } from './service-token.source';

export interface SendOptions {
  /** Send with this service's own token instead of the caller's. */
  asService?: boolean;
  /** Extra headers for this one message. */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Outgoing NATS requests and events. While a request is being handled, every message carries the
 * caller's token and request id, set per message (never as a client-wide header option, which would
 * put one user's token on every message of the client). Outside a request, or with
 * `{asService: true}`, the service's own token is used.
 *
 * Messages are NestJS's NATS packets (`{pattern, data, id}`, answered with `{response | err}`), so
 * any Nest NATS service can answer them. Requests share one reply subscription (`ReplyMux`), not a
 * subscription per request as Nest's client makes: that costs the NATS server two protocol
 * operations per request and, with no responder, only a timeout, where the shared one learns at once
 * that nobody is listening.
 */
@Injectable()
export class BatonClient implements OnApplicationShutdown {
  private replies?: ReplyMux;

  constructor(
    @Inject(BATON_NATS_CLIENT) private readonly client: ClientNats,
    @Inject(BATON_AUTH_OPTIONS) private readonly options: BatonAuthOptions,
    @Optional() private serviceTokens?: ServiceTokenSource,
  ) {}

  /** Uses another source for this service's own token (the auth service signs its own). */
  useServiceTokens(source: ServiceTokenSource): void {
    this.serviceTokens = source;
  }

  /** Request-reply; resolves with the answer or throws the remote error with its status. */
  async send<T>(subject: string, data: unknown, options: SendOptions = {}): Promise<T> {
    const headers = this.callerHeaders(options) ?? (await this.headersFor(options));
    let answer: ReplyPacket;
    try {
      const reply = await this.repliesOn(this.nc ?? (await this.connection())).request(
        subject,
        encode({ pattern: subject, data, id: nextId() }),
        headers,
        options.timeoutMs ?? this.options.requestTimeoutMs,
      );
      answer = decode(reply.data) as ReplyPacket;
    } catch (err) {
      throw this.translate(subject, err);
    }
    if (answer.err !== undefined && answer.err !== null) {
      throw this.translate(subject, answer.err);
    }
    return answer.response as T;
  }

  /** Publishes an event; resolves once it has been handed to the NATS connection. */
  async emit(subject: string, data: unknown, options: SendOptions = {}): Promise<void> {
    const headers = await this.headersFor(options);
    // through the requests' queue, so that messages leave in the order they were given
    await this.repliesOn(await this.connection()).publish(
      subject,
      encode({ pattern: subject, data }),
      headers,
    );
  }

  /** The underlying connection, for JetStream and plain subscriptions. */
  async connection(): Promise<NatsConnection> {
    return (await this.client.connect()) as NatsConnection;
  }

  /** The connection once it is open, while it is: requests need not wait on the client for it. */
  private get nc(): NatsConnection | undefined {
    const nc = this.replies?.nc;
    return nc && !nc.isClosed() ? nc : undefined;
  }

  private repliesOn(nc: NatsConnection): ReplyMux {
    if (this.replies?.nc !== nc || !this.replies.usable) {
      this.replies = new ReplyMux(nc);
    }
    return this.replies;
  }

  async onApplicationShutdown(): Promise<void> {
    this.replies?.flush();
    await this.client.close();
  }

  /**
   * The headers of a request made on the caller's behalf, at once; none when the service's own
   * token is needed (`headersFor`, which may have to fetch it).
   */
  private callerHeaders(options: SendOptions): MsgHdrs | undefined {
    const ctx = currentCallContext();
    return !options.asService && ctx?.token ? this.headers(ctx, ctx.token, options) : undefined;
  }

  private async headersFor(options: SendOptions): Promise<MsgHdrs> {
    const ctx = currentCallContext();
    const token = !options.asService && ctx?.token ? ctx.token : await this.serviceTokens?.token();
    return this.headers(ctx, token, options);
  }

  private headers(
    ctx: CallContext | undefined,
    token: string | undefined,
    options: SendOptions,
  ): MsgHdrs {
    const h = natsHeaders();
    h.set(Headers.requestId, ctx?.requestId ?? randomUUID());
    if (ctx?.clientIp) {
      h.set(Headers.clientIp, ctx.clientIp);
    }
    if (token) {
      h.set(Headers.authorization, `Bearer ${token}`);
    }
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      h.set(name, value);
    }
    return h;
  }

  private translate(subject: string, err: unknown): Error {
    if (isErrorBody(err)) {
      return new RemoteException(err);
    }
    const service = subject.split('.')[0];
    if (err instanceof NatsError && err.code === TIMEOUT) {
      return new ServiceUnavailableException(`The ${service} service did not answer in time`);
    }
    return new ServiceUnavailableException(`The ${service} service is unavailable`);
  }
}

const TIMEOUT: string = ErrorCode.Timeout;

/** An answer from a NestJS NATS handler. */
interface ReplyPacket {
  response?: unknown;
  err?: unknown;
}

const encode = (packet: object): Uint8Array => Buffer.from(JSON.stringify(packet));
const decode = (data: Uint8Array): unknown =>
  JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));

/** Nest's servers only need an id to tell a request from an event; the reply is routed by NATS. */
const idPrefix = randomUUID().slice(0, 8);
let sequence = 0;
const nextId = (): string => `${idPrefix}-${(sequence = (sequence + 1) % Number.MAX_SAFE_INTEGER)}`;
