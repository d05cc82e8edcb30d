import { Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { Events } from '@baton/contracts';
import type { Jwks } from '@baton/contracts';
import { BatonClient, JwksSource, KeyStore, ServiceTokenSource } from '@baton/auth';
import { TokensService } from '../tokens/tokens.service';
import { SigningKeysService } from './signing-keys.service';

/** The auth service verifies with its own published keys, without a NATS round trip. */
@Injectable()
export class LocalJwksSource extends JwksSource implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    private readonly keys: SigningKeysService,
    private readonly keyStore: KeyStore,
    private readonly client: BatonClient,
  ) {
    super();
  }

  onModuleInit(): void {
    this.keyStore.useSource(this);
  }

  /** Another auth replica rotated the keys: sign with the new one and publish it too. */
  async onApplicationBootstrap(): Promise<void> {
    const nc = await this.client.connection();
    nc.subscribe(Events.keysRotated, {
      callback: () => {
        void this.keys.reload().then(() => this.keyStore.refresh());
      },
    });
  }

  /**
   * Announces a key this process made current as it started (the first start, or a new
   * `JWT_ALG`) as a rotation is announced, once auth answers JWKS requests: the other services
   * fetch it before its first token reaches them, instead of refusing that token until their next
   * scheduled fetch.
   */
  async announceKeyMadeAtStart(): Promise<void> {
    const kid = this.keys.madeCurrentAtStart;
    if (kid !== undefined) {
      await this.client.emit(Events.keysRotated, { kid }, { asService: true });
    }
  }

  fetchJwks(): Promise<Jwks> {
    return this.keys.jwks();
  }
}

/** The auth service signs its own service token. */
@Injectable()
export class LocalServiceTokenSource extends ServiceTokenSource implements OnModuleInit {
  private cached?: { token: string; renewAt: number };

  constructor(
    private readonly tokens: TokensService,
    private readonly client: BatonClient,
  ) {
    super();
  }

  onModuleInit(): void {
    this.client.useServiceTokens(this);
  }

  async token(): Promise<string> {
    if (!this.cached || Date.now() >= this.cached.renewAt) {
      const { accessToken, expiresIn } = await this.tokens.serviceToken('auth');
      this.cached = { token: accessToken, renewAt: Date.now() + expiresIn * 800 };
    }
    return this.cached.token;
  }
}
