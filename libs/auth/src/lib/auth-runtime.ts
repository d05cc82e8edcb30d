import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { Events } from '@baton/contracts';
import { BatonClient } from './client/baton-client';
import { KeyStore } from './keys/key-store';
import { RevocationStore } from './revocation/revocation-store';

const INITIAL_JWKS_WAIT_MS = 2000;

/**
 * Start-up of the auth machinery: the service accepts no traffic before its copy of the
 * revocation list is complete; keys are fetched at once and again whenever auth rotates them.
 */
@Injectable()
export class AuthRuntime implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('BatonAuth');

  constructor(
    private readonly client: BatonClient,
    private readonly keys: KeyStore,
    private readonly revocations: RevocationStore,
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
  }
}
