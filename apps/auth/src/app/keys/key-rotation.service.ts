import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import { BatonClient, KeyStore } from '@baton/auth';
import { Events } from '@baton/contracts';
import { AuditService } from '../audit/audit.service';
import { AUTH_ENV, AuthServiceEnv } from '../auth.env';
import { SigningKeysService } from './signing-keys.service';

const DAY_MS = 86_400_000;
/** How often each replica checks the current key's age. */
const CHECK_INTERVAL_MS = 3_600_000;

/**
 * Key rotations, asked for by an admin or due by age (`KEY_ROTATION_DAYS`), and what follows each:
 * this process verifies with the new key, the rotation is audited, and `auth.keys.rotated` tells
 * every other process to fetch the JWKS.
 */
@Injectable()
export class KeyRotation implements OnModuleDestroy {
  private readonly logger = new Logger('SigningKeys');
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;

  constructor(
    private readonly signingKeys: SigningKeysService,
    private readonly verificationKeys: KeyStore,
    private readonly audit: AuditService,
    private readonly client: BatonClient,
    @Inject(AUTH_ENV) private readonly env: AuthServiceEnv,
  ) {}

  /** Rotates now (`POST /admin/keys/rotate`); the admin asking is the audited actor. */
  async rotate(): Promise<string> {
    const kid = await this.signingKeys.rotate();
    await this.announce(kid, {});
    return kid;
  }

  /**
   * Checks once auth answers, then every hour, whether the current key is `KEY_ROTATION_DAYS` old,
   * and rotates it then; nothing when that is 0. Every replica checks: the first to find the key
   * due rotates it, the others find the new one.
   */
  startSchedule(): void {
    if (this.env.KEY_ROTATION_DAYS === 0) {
      return;
    }
    this.check();
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS).unref();
  }

  /** One check: rotates, announces and returns the new kid when the key was due. */
  async rotateIfDue(now = Date.now()): Promise<string | undefined> {
    const days = this.env.KEY_ROTATION_DAYS;
    const kid = await this.signingKeys.rotateIfOlderThan(days * DAY_MS, now);
    if (kid !== undefined) {
      this.logger.log(
        `the signing key was ${days} days old (KEY_ROTATION_DAYS): current kid ${kid}`,
      );
      await this.announce(kid, { scheduled: true });
    }
    return kid;
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  private check(): void {
    if (this.checking) {
      return;
    }
    this.checking = this.rotateIfDue()
      .then(() => undefined)
      .catch((err: unknown) => {
        // the key keeps signing; the next check tries again
        this.logger.warn(`could not rotate the signing key: ${(err as Error).message}`);
      })
      .finally(() => {
        this.checking = undefined;
      });
  }

  private async announce(kid: string, detail: Record<string, unknown>): Promise<void> {
    await this.verificationKeys.refresh();
    await this.audit.record({ type: 'keys.rotated', detail: { kid, ...detail } });
    await this.client.emit(Events.keysRotated, { kid }, { asService: true });
  }
}
