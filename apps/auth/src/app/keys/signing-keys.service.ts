import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { IsNull } from 'typeorm';
import type { Repository } from 'typeorm';
import type { AllowedAlgorithm } from '@baton/auth';
import type { Jwks, PublicJwk } from '@baton/contracts';
import { runExclusive } from '@baton/persistence';
import { AUTH_ENV, AuthServiceEnv } from '../auth.env';
import { SigningKeyEntity } from '../entities';
import { openPrivateKey, sealPrivateKey } from './key-encryption';

export interface SigningKey {
  kid: string;
  alg: AllowedAlgorithm;
  privateKey: KeyObject;
}

/** How long a retired key stays in the JWKS past the last token it signed can have expired. */
const RETIRED_MARGIN_MS = 60_000;

/**
 * What retiring the current key writes: the time, and the private key erased. A retired key never
 * signs again; its public JWK stays, published until its tokens have expired.
 */
const RETIRE = (): Pick<SigningKeyEntity, 'retiredAt' | 'privateKey'> => ({
  retiredAt: new Date(),
  privateKey: '',
});

/**
 * The signing keys. The current one signs; retired ones stay published until every token they
 * signed has expired. Keys are created on first start and kept in the auth database, encrypted
 * when KEY_ENCRYPTION_SECRET is set. Private keys never leave this service.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit {
  private readonly logger = new Logger(SigningKeysService.name);
  private loading?: Promise<void>;
  private current?: SigningKey;
  private published: PublicJwk[] = [];
  private retiredAt = new Map<string, number>();
  private created?: string;

  constructor(
    @InjectRepository(SigningKeyEntity) private readonly keys: Repository<SigningKeyEntity>,
    @Inject(AUTH_ENV) private readonly env: AuthServiceEnv,
  ) {}

  /** At start, so that a missing or wrong KEY_ENCRYPTION_SECRET stops the process. */
  async onModuleInit(): Promise<void> {
    await this.ready();
  }

  /** Loads (or on first start creates) the keys; idempotent. */
  ready(): Promise<void> {
    this.loading ??= this.load();
    return this.loading;
  }

  /** The kid of the key this process made current while loading, if it made one. */
  get madeCurrentAtStart(): string | undefined {
    return this.created;
  }

  async signingKey(): Promise<SigningKey> {
    await this.ready();
    if (!this.current) {
      throw new Error('no signing key');
    }
    return this.current;
  }

  async jwks(): Promise<Jwks> {
    await this.ready();
    const horizon = Date.now() - this.env.ACCESS_TOKEN_TTL * 1000 - RETIRED_MARGIN_MS;
    return {
      keys: this.published.filter((k) => (this.retiredAt.get(k.kid) ?? Infinity) > horizon),
    };
  }

  /** Makes a new key current; the old ones keep verifying until their tokens expire. */
  async rotate(): Promise<string> {
    await this.ready();
    const kid = (await this.replaceCurrent(() => true)) as string;
    this.logger.log(`signing key rotated; current kid ${kid}`);
    return kid;
  }

  /**
   * Makes a new key current when the current one was made `maxAgeMs` or more before `now`, and
   * returns its kid; undefined when the key is younger, or another replica has just replaced it.
   */
  async rotateIfOlderThan(maxAgeMs: number, now = Date.now()): Promise<string | undefined> {
    await this.ready();
    const due = (rows: SigningKeyEntity[]) =>
      rows.some((k) => new Date(k.createdAt).getTime() <= now - maxAgeMs);
    if (!due(await this.keys.findBy({ retiredAt: IsNull() }))) {
      return undefined;
    }
    return this.replaceCurrent(due);
  }

  /**
   * Retires the current key and inserts a new one if `still` holds for the current keys, both under
   * the store's lock: rotations on two replicas at once neither break the single-current-key index
   * nor, when `still` re-checks what made one due, both rotate. Returns the new kid, if any.
   */
  private async replaceCurrent(
    still: (current: SigningKeyEntity[]) => boolean,
  ): Promise<string | undefined> {
    const next = this.generate(); // slow (RSA): made before taking the lock
    const replaced = await runExclusive(this.keys.manager.connection, async (tx) => {
      const repo = tx.getRepository(SigningKeyEntity);
      if (!still(await repo.findBy({ retiredAt: IsNull() }))) {
        return false;
      }
      await repo.update({ retiredAt: IsNull() }, RETIRE());
      await repo.insert(next);
      return true;
    });
    if (!replaced) {
      return undefined;
    }
    await this.load();
    return next.kid;
  }

  /** Re-reads the keys (another replica rotated them). */
  reload(): Promise<void> {
    this.loading = this.load();
    return this.loading;
  }

  private async load(): Promise<void> {
    let rows = await this.keys.find({ order: { createdAt: 'DESC' } });
    if (!this.hasCurrentKey(rows)) {
      rows = await this.createCurrentKey();
    }
    const current = rows.find((k) => k.retiredAt === null) as SigningKeyEntity;
    this.current = {
      kid: current.kid,
      alg: current.alg as SigningKey['alg'],
      privateKey: createPrivateKey(
        openPrivateKey(current.privateKey, this.env.KEY_ENCRYPTION_SECRET),
      ),
    };
    this.published = rows.map((k) => JSON.parse(k.publicJwk) as PublicJwk);
    this.retiredAt = new Map(
      rows
        .filter((k) => k.retiredAt !== null)
        .map((k) => [k.kid, new Date(k.retiredAt as Date).getTime()]),
    );
  }

  /** True when a key signs and it is of the configured algorithm. */
  private hasCurrentKey(rows: SigningKeyEntity[]): boolean {
    return rows.find((k) => k.retiredAt === null)?.alg === this.env.JWT_ALG;
  }

  /**
   * Makes a key of the configured algorithm current, retiring one of another, unless another
   * replica starting at the same moment has just done so: the check and the insert hold the
   * store's lock, and the database accepts a single current key (`uq_signing_keys_current`).
   * Returns every key, newest first.
   */
  private async createCurrentKey(): Promise<SigningKeyEntity[]> {
    const next = this.generate(); // slow (RSA): made before taking the lock
    let created = false;
    const rows = await runExclusive(this.keys.manager.connection, async (tx) => {
      const repo = tx.getRepository(SigningKeyEntity);
      if (!this.hasCurrentKey(await repo.find({ order: { createdAt: 'DESC' } }))) {
        await repo.update({ retiredAt: IsNull() }, RETIRE());
        await repo.insert(next);
        created = true;
      }
      return repo.find({ order: { createdAt: 'DESC' } });
    });
    if (created) {
      this.created = next.kid;
      this.logger.log(`created a ${this.env.JWT_ALG} signing key`);
    }
    return rows;
  }

  private generate(): SigningKeyEntity {
    const alg = this.env.JWT_ALG;
    // The pair comes back encoded, and the JWK is read from a key object of its own. On Node.js 20,
    // exporting a JWK from the key objects generateKeyPairSync returns can deadlock the process: the
    // export holds the key's lock while it allocates, and a garbage collection then finalizing the
    // generation job takes the same lock (seen in a test run, stuck in ~KeyGenJob).
    const { privateKey: pem, publicKey: der } =
      alg === 'RS256'
        ? generateKeyPairSync('rsa', {
            modulusLength: 2048,
            publicKeyEncoding: { type: 'spki', format: 'der' },
            privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
          })
        : alg === 'ES256'
          ? generateKeyPairSync('ec', {
              namedCurve: 'P-256',
              publicKeyEncoding: { type: 'spki', format: 'der' },
              privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
            })
          : generateKeyPairSync('ed25519', {
              publicKeyEncoding: { type: 'spki', format: 'der' },
              privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
            });
    const kid = randomBytes(12).toString('base64url');
    const jwk: PublicJwk = {
      ...createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ format: 'jwk' }),
      kid,
      alg,
      use: 'sig',
    } as PublicJwk;
    return this.keys.create({
      kid,
      alg,
      publicJwk: JSON.stringify(jwk),
      privateKey: sealPrivateKey(pem, this.env.KEY_ENCRYPTION_SECRET),
      createdAt: new Date(),
      retiredAt: null,
    });
  }
}
