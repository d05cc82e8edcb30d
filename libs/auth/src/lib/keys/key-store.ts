import { Inject, Injectable, Logger } from '@nestjs/common';
import { createPublicKey } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import type { Jwks, PublicJwk } from '@baton/contracts';
import { BATON_AUTH_OPTIONS, keyFitsAlgorithm } from '../auth.constants';
import type { AllowedAlgorithm } from '../auth.constants';
import type { BatonAuthOptions } from '../baton-auth.options';
import { JwksSource } from './jwks.source';
import { readTokenHeader, TokenRejected } from './token-header';
import type { TokenHeader } from './token-header';

/** After a failed fetch, an unknown kid may trigger the next one this soon. */
const FAILED_FETCH_RETRY_MS = 1000;

interface VerificationKey {
  key: KeyObject;
  alg: AllowedAlgorithm;
}

/**
 * The public keys tokens are verified with, by `kid`, held as KeyObjects. A token naming an
 * unknown `kid` triggers a JWKS refetch, at most once per `jwksRefetchIntervalMs`.
 */
@Injectable()
export class KeyStore {
  private readonly logger = new Logger(KeyStore.name);
  private keys = new Map<string, VerificationKey>();
  private lastFetch = 0;
  private lastFetchOk = false;
  private inflight?: Promise<void>;
  private readonly removedListeners: Array<() => void> = [];

  constructor(
    private source: JwksSource,
    @Inject(BATON_AUTH_OPTIONS) private readonly options: BatonAuthOptions,
  ) {}

  /** Calls `listener` whenever a fetch drops a key the store held (auth stopped publishing it). */
  onKeysRemoved(listener: () => void): void {
    this.removedListeners.push(listener);
  }

  /** Takes keys from another source (the auth service reads its own). */
  useSource(source: JwksSource): void {
    this.source = source;
    this.lastFetch = 0;
    this.lastFetchOk = false;
  }

  /** Fetches the JWKS now (once, however many callers ask at the same time). */
  refresh(): Promise<void> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** The key a token's header names, checked against the key's own algorithm. */
  async keyForToken(token: string): Promise<KeyObject> {
    return (await this.resolve(token)).key;
  }

  /** The key a header names when it is already held (no fetch), checked against its algorithm. */
  known(header: TokenHeader): KeyObject | undefined {
    const entry = this.keys.get(header.kid);
    if (entry && entry.alg !== header.alg) {
      throw new TokenRejected('algorithm does not match the key');
    }
    return entry?.key;
  }

  /** The token's (strictly read) header and the key it names, checked against that key's algorithm. */
  async resolve(token: string): Promise<{ key: KeyObject; header: TokenHeader }> {
    const header = readTokenHeader(token);
    let entry = this.keys.get(header.kid);
    if (!entry && this.inflight) {
      await this.inflight;
      entry = this.keys.get(header.kid);
    }
    const interval = this.lastFetchOk ? this.options.jwksRefetchIntervalMs : FAILED_FETCH_RETRY_MS;
    if (!entry && Date.now() - this.lastFetch >= interval) {
      await this.refresh();
      entry = this.keys.get(header.kid);
    }
    if (!entry) {
      throw new TokenRejected('unknown kid');
    }
    if (entry.alg !== header.alg) {
      throw new TokenRejected('algorithm does not match the key');
    }
    return { key: entry.key, header };
  }

  get size(): number {
    return this.keys.size;
  }

  private async fetch(): Promise<void> {
    this.lastFetch = Date.now();
    try {
      this.load(await this.source.fetchJwks());
      this.lastFetchOk = true;
    } catch (err) {
      this.lastFetchOk = false;
      this.logger.warn(`JWKS fetch failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Replaces the key set with the usable keys of a JWKS. */
  load(jwks: Jwks): void {
    const next = new Map<string, VerificationKey>();
    for (const jwk of Array.isArray(jwks?.keys) ? jwks.keys : []) {
      const key = this.toKey(jwk);
      if (key) {
        next.set(jwk.kid, key);
      }
    }
    const removed = [...this.keys.keys()].some((kid) => !next.has(kid));
    this.keys = next;
    if (removed) {
      for (const listener of this.removedListeners) {
        listener();
      }
    }
  }

  private toKey(jwk: PublicJwk): VerificationKey | undefined {
    const alg = jwk.alg as AllowedAlgorithm;
    if (!this.options.algorithms.includes(alg) || 'd' in jwk || typeof jwk.kid !== 'string') {
      return undefined;
    }
    try {
      const key = createPublicKey({ key: jwk as unknown as JsonWebKey, format: 'jwk' });
      return keyFitsAlgorithm(key, alg) ? { key, alg } : undefined;
    } catch {
      return undefined;
    }
  }
}
