import type { Jwks } from '@baton/contracts';

/** Where the verifier's public keys come from. */
export abstract class JwksSource {
  abstract fetchJwks(): Promise<Jwks>;
}
