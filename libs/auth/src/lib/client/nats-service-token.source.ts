import { Inject, Injectable } from '@nestjs/common';
import { ClientNats, NatsRecordBuilder } from '@nestjs/microservices';
import { headers as natsHeaders } from 'nats';
import { firstValueFrom, timeout } from 'rxjs';
import { randomUUID } from 'node:crypto';
import { Headers, Subjects } from '@baton/contracts';
import type { TokenPair } from '@baton/contracts';
import { BATON_AUTH_OPTIONS, BATON_NATS_CLIENT } from '../auth.constants';
import type { BatonAuthOptions } from '../baton-auth.options';
import { ServiceTokenSource } from './service-token.source';

/**
 * Gets this service's token from `auth.service-token` with the credentials in its environment
 * (`SERVICE_SECRET`), and renews it when four fifths of its lifetime have passed.
 */
@Injectable()
export class NatsServiceTokenSource extends ServiceTokenSource {
  private cached?: { token: string; renewAt: number };
  private inflight?: Promise<string>;

  constructor(
    @Inject(BATON_NATS_CLIENT) private readonly client: ClientNats,
    @Inject(BATON_AUTH_OPTIONS) private readonly options: BatonAuthOptions,
  ) {
    super();
  }

  token(): Promise<string> {
    if (this.cached && Date.now() < this.cached.renewAt) {
      return Promise.resolve(this.cached.token);
    }
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<string> {
    const h = natsHeaders();
    h.set(Headers.requestId, randomUUID());
    const record = new NatsRecordBuilder({
      service: this.options.service,
      secret: this.options.serviceSecret,
    })
      .setHeaders(h)
      .build();
    const answer = await firstValueFrom(
      this.client
        .send<Pick<TokenPair, 'accessToken' | 'expiresIn'>>(Subjects.auth.serviceToken, record)
        .pipe(timeout(this.options.requestTimeoutMs)),
    );
    this.cached = {
      token: answer.accessToken,
      renewAt: Date.now() + answer.expiresIn * 800,
    };
    return answer.accessToken;
  }
}
