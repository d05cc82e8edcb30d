import { Inject, Injectable } from '@nestjs/common';
import { BATON_AUTH_OPTIONS } from '../auth.constants';
import type { BatonAuthOptions } from '../baton-auth.options';
import type { Principal } from '../principal';

/**
 * Tokens whose signature and claims were verified, keyed by the token itself, so that a token seen
 * again skips the signature check. Bounded (oldest entries go first), never serves a token at or
 * past its `exp`, and holds no verdict on revocation: that is checked on every request.
 */
@Injectable()
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Principal>();
  private readonly capacity: number;

  constructor(@Inject(BATON_AUTH_OPTIONS) options: BatonAuthOptions) {
    this.capacity = options.verifiedTokenCacheSize;
  }

  get(token: string): Principal | undefined {
    if (this.entries.size === 0) {
      return undefined; // no need to hash a long token for nothing
    }
    const principal = this.entries.get(token);
    if (principal && principal.exp * 1000 <= Date.now()) {
      this.entries.delete(token);
      return undefined;
    }
    return principal;
  }

  set(token: string, principal: Principal): void {
    if (this.capacity <= 0) {
      return;
    }
    if (this.entries.size >= this.capacity) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(token, principal);
  }

  /** Forgets every token (their keys changed: each is verified again on its next use). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
