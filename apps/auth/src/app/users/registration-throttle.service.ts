import { Injectable } from '@nestjs/common';
import { clientNetwork } from './client-network';
import { ThrottleCounts } from './throttle-counts';

/** Registrations (each costs a password hash) an address may make in a window. */
const REGISTRATION_FREE_ATTEMPTS = 10;
const REGISTRATION_BLOCK_MS = 15 * 60_000;

/**
 * Throttles registrations per client address: each one costs auth a password hash, so a single
 * client registering without end would take that time from every login. At most 10 in a window;
 * the 11th is refused and blocks the address for 15 minutes (429 with Retry-After).
 */
@Injectable()
export class RegistrationThrottle {
  constructor(private readonly counts: ThrottleCounts) {}

  /**
   * Counts a registration from `clientAddress` (an IPv6 one as its /64) and returns 0 when it may
   * go ahead, or the seconds to wait. Without an address (no client behind it) nothing is counted.
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
