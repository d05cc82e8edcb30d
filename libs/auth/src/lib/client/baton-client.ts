import { Inject, Injectable, Optional, ServiceUnavailableException } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { ClientNats, NatsRecordBuilder } from '@nestjs/microservices';
import { headers as natsHeaders } from 'nats';
import type { MsgHdrs, NatsConnection } from 'nats';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import { randomUUID } from 'node:crypto';
import { Headers, isErrorBody } from '@baton/contracts';
import { BATON_AUTH_OPTIONS, BATON_NATS_CLIENT } from '../auth.constants';
import type { BatonAuthOptions } from '../baton-auth.options';
import { currentCallContext } from '../context/call-context';
import { RemoteException } from '../errors/remote.exception';
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
 */
@Injectable()
export class BatonClient implements OnApplicationShutdown {
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
    const record = new NatsRecordBuilder(data).setHeaders(await this.headersFor(options)).build();
    try {
      return await firstValueFrom(
        this.client
          .send<T>(subject, record)
          .pipe(timeout(options.timeoutMs ?? this.options.requestTimeoutMs)),
      );
    } catch (err) {
      throw this.translate(subject, err);
    }
  }

  /** Publishes an event; resolves once it has been handed to the NATS connection. */
  async emit(subject: string, data: unknown, options: SendOptions = {}): Promise<void> {
    const record = new NatsRecordBuilder(data).setHeaders(await this.headersFor(options)).build();
    await firstValueFrom(this.client.emit(subject, record), { defaultValue: undefined });
  }

  /** The underlying connection, for JetStream and plain subscriptions. */
  async connection(): Promise<NatsConnection> {
    return (await this.client.connect()) as NatsConnection;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }

  private async headersFor(options: SendOptions): Promise<MsgHdrs> {
    const ctx = currentCallContext();
    const h = natsHeaders();
    h.set(Headers.requestId, ctx?.requestId ?? randomUUID());
    if (ctx?.clientIp) {
      h.set(Headers.clientIp, ctx.clientIp);
    }
    const token = !options.asService && ctx?.token ? ctx.token : await this.serviceTokens?.token();
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
    if (err instanceof TimeoutError) {
      return new ServiceUnavailableException(`The ${service} service did not answer in time`);
    }
    return new ServiceUnavailableException(`The ${service} service is unavailable`);
  }
}
