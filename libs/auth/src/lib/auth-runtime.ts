import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Events } from '@baton/contracts';
import { BATON_AUTH_OPTIONS } from './auth.constants';
import type { BatonAuthOptions } from './baton-auth.options';
import { BatonClient } from './client/baton-client';
import { KeyStore } from './keys/key-store';
import { RevocationStore } from './revocation/revocation-store';

const INITIAL_JWKS_WAIT_MS = 2000;
const DEFAULT_JWKS_REFRESH_INTERVAL_MS = 300_000;

/**
 * Start-up of the auth machinery: the service accepts no traffic before its copy of the
 * revocation list is complete; keys are fetched at once, again whenever auth rotates them, and
 * every `jwksRefreshIntervalMs` besides, so that a key auth stopped publishing is dropped even when
 * its announcement was missed.
 */
@Injectable()
export class AuthRuntime implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('BatonAuth');
  private refresher?: NodeJS.Timeout;

  constructor(
    private readonly client: BatonClient,
    private readonly keys: KeyStore,
    private readonly revocations: RevocationStore,
    @Inject(BATON_AUTH_OPTIONS) private readonly options: BatonAuthOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    const nc = await this.client.connection();
    await this.revocations.start(nc);
    nc.subscribe(Events.keysRotated, {
      callback: () => {
        void this.keys.refresh();
      },
    });
    this.logger.log('revocation list loaded');
  }

  /** Starts with the keys when auth answers soon; otherwise they are fetched on first use. */
  async onApplicationBootstrap(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.keys.refresh(),
      new Promise((resolve) => (timer = setTimeout(resolve, INITIAL_JWKS_WAIT_MS))),
    ]);
    clearTimeout(timer);
    this.refresher = setInterval(
      () => void this.keys.refresh(),
      this.options.jwksRefreshIntervalMs ?? DEFAULT_JWKS_REFRESH_INTERVAL_MS,
    ).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.refresher);
  }
}
