import { Injectable } from '@nestjs/common';
import { clientNetwork } from './client-network';
import { ThrottleCounts } from './throttle-counts';

/** Per account: a short, growing back-off, capped so that an attacker cannot lock a victim out for long. */
const ACCOUNT_FREE_FAILURES = 5;
const ACCOUNT_MAX_BLOCK_MS = 60_000;
/** Per client address: a longer block once it has failed many times on any accounts. */
const ADDRESS_FREE_FAILURES = 20;
const ADDRESS_BLOCK_MS = 5 * 60_000;

/** Throttles failed logins per account and per client address (429 with Retry-After). */
@Injectable()
export class LoginThrottle {
  constructor(private readonly counts: ThrottleCounts) {}

  /** Seconds to wait before the next attempt, or 0 when it may go ahead. */
  retryAfter(email: string, address: string | undefined): Promise<number> {
    return this.counts.retryAfter(
      ['account', email],
      address ? ['address', clientNetwork(address)] : undefined,
    );
  }

  async failed(email: string, address: string | undefined): Promise<void> {
    const accountFailures = await this.counts.count('account', email);
    if (accountFailures > ACCOUNT_FREE_FAILURES) {
      const backoff = 1000 * 2 ** Math.min(accountFailures - ACCOUNT_FREE_FAILURES, 10);
      await this.counts.block('account', email, Math.min(backoff, ACCOUNT_MAX_BLOCK_MS));
    }
    if (address) {
      const network = clientNetwork(address);
      const addressFailures = await this.counts.count('address', network);
      if (addressFailures > ADDRESS_FREE_FAILURES) {
        await this.counts.block('address', network, ADDRESS_BLOCK_MS);
      }
    }
  }

  async succeeded(email: string): Promise<void> {
    await this.counts.clear('account', email);
  }
}
