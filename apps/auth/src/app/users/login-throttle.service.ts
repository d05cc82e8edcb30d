import { Injectable } from '@nestjs/common';
import { clientNetwork } from './client-network';
import { ThrottleCounts } from './throttle-counts';

/** Per account: a short, growing back-off, capped so that an attacker cannot lock a victim out for long. */
const ACCOUNT_FREE_FAILURES = 5;
const ACCOUNT_MAX_BLOCK_MS = 60_000;
/** Per client address: a longer block once it has failed many times on any accounts. */
const ADDRESS_FREE_FAILURES = 20;
const ADDRESS_BLOCK_MS = 5 * 60_000;
/** Per client address: registrations (each costs a password hash) in a window. */
const REGISTRATION_FREE_ATTEMPTS = 10;
const REGISTRATION_BLOCK_MS = 15 * 60_000;

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

/**
 * Throttles registrations per client address: each one costs auth a password hash, so a single
 * client registering without end would take that time from every login. At most 10 in a window;
 * the 11th is refused and blocks the address for 15 minutes (429 with Retry-After).
 */
@Injectable()
export class RegistrationThrottle {
  constructor(private readonly counts: ThrottleCounts) {}

  /**
   * Counts a registration from `address` and returns 0 when it may go ahead, or the seconds to
   * wait. Without an address (no client behind it) nothing is counted.
   */
  async attempt(clientAddress: string | undefined): Promise<number> {
    if (!clientAddress) {
      return 0;
    }
    const address = clientNetwork(clientAddress);
    const wait = await this.counts.retryAfter(['registration', address]);
    if (wait > 0) {
      return wait;
    }
    if ((await this.counts.count('registration', address)) <= REGISTRATION_FREE_ATTEMPTS) {
      return 0;
    }
    await this.counts.block('registration', address, REGISTRATION_BLOCK_MS);
    return this.counts.retryAfter(['registration', address]);
  }
}
