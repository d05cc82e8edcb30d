import { Injectable } from '@nestjs/common';
import { Subjects } from '@baton/contracts';
import type { Jwks } from '@baton/contracts';
import { BatonClient } from '../client/baton-client';
import { JwksSource } from './jwks.source';

/** Fetches the JWKS from the auth service over NATS (`auth.jwks`). */
@Injectable()
export class NatsJwksSource extends JwksSource {
  constructor(private readonly client: BatonClient) {
    super();
  }

  fetchJwks(): Promise<Jwks> {
    return this.client.send<Jwks>(Subjects.auth.jwks, {});
  }
}
