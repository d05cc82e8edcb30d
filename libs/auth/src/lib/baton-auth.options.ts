import type { AllowedAlgorithm } from './auth.constants';

/** Resolved settings of `BatonAuthModule`. */
export interface BatonAuthOptions {
  /** This service's name: the NATS client name, the queue group and `svc:<name>`. */
  service: string;
  natsServers: string[];
  issuer: string;
  audience: string;
  algorithms: readonly AllowedAlgorithm[];
  requestTimeoutMs: number;
  /** The longest an access token lives, in seconds: how long revocations are kept. */
  accessTokenTtl: number;
  /** The least time between two JWKS fetches caused by unknown `kid`s, in milliseconds. */
  jwksRefetchIntervalMs: number;
  /**
   * How often the JWKS is fetched again whatever the tokens name, in milliseconds (default five
   * minutes): a key auth stopped publishing is dropped by then.
   */
  jwksRefreshIntervalMs?: number;
  serviceSecret?: string;
  /** How many verified tokens to remember (0 turns the cache off). */
  verifiedTokenCacheSize: number;
  /** Replicas of the revocation bucket's stream when this process creates it (default 1). */
  revocationReplicas?: number;
}
