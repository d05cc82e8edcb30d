import { Injectable } from '@nestjs/common';

interface Window {
  failures: number;
  firstAt: number;
  blockedUntil: number;
}

const WINDOW_MS = 15 * 60_000;
/** Per account: a short, growing back-off, capped so that an attacker cannot lock a victim out for long. */
const ACCOUNT_FREE_FAILURES = 5;
const ACCOUNT_MAX_BLOCK_MS = 60_000;
/** Per client address: a longer block once it has failed many times on any accounts. */
const ADDRESS_FREE_FAILURES = 20;
const ADDRESS_BLOCK_MS = 5 * 60_000;
const MAX_TRACKED = 100_000;

/** Throttles failed logins per account and per client address (429 with Retry-After). */
@Injectable()
export class LoginThrottle {
  private readonly accounts = new Map<string, Window>();
  private readonly addresses = new Map<string, Window>();

  /** Seconds to wait before the next attempt, or 0 when it may go ahead. */
  retryAfter(email: string, address: string | undefined): number {
    const now = Date.now();
    const blocked = Math.max(
      this.accounts.get(email)?.blockedUntil ?? 0,
      address ? (this.addresses.get(address)?.blockedUntil ?? 0) : 0,
    );
    return blocked > now ? Math.ceil((blocked - now) / 1000) : 0;
  }

  failed(email: string, address: string | undefined): void {
    const account = this.bump(this.accounts, email);
    if (account.failures > ACCOUNT_FREE_FAILURES) {
      const backoff = 1000 * 2 ** Math.min(account.failures - ACCOUNT_FREE_FAILURES, 10);
      account.blockedUntil = Date.now() + Math.min(backoff, ACCOUNT_MAX_BLOCK_MS);
    }
    if (address) {
      const byAddress = this.bump(this.addresses, address);
      if (byAddress.failures > ADDRESS_FREE_FAILURES) {
        byAddress.blockedUntil = Date.now() + ADDRESS_BLOCK_MS;
      }
    }
  }

  succeeded(email: string): void {
    this.accounts.delete(email);
  }

  private bump(map: Map<string, Window>, key: string): Window {
    const now = Date.now();
    let w = map.get(key);
    if (!w || now - w.firstAt > WINDOW_MS) {
      if (map.size >= MAX_TRACKED) {
        this.evictExpired(map, now);
      }
      w = { failures: 0, firstAt: now, blockedUntil: 0 };
      map.set(key, w);
    }
    w.failures += 1;
    return w;
  }

  private evictExpired(map: Map<string, Window>, now: number): void {
    for (const [key, w] of map) {
      if (now - w.firstAt > WINDOW_MS && w.blockedUntil < now) {
        map.delete(key);
      }
    }
    if (map.size >= MAX_TRACKED) {
      map.delete(map.keys().next().value as string);
    }
  }
}
