import { Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServiceTokenDto } from '@baton/contracts';
import { AuditService } from '../audit/audit.service';
import { AUTH_ENV, AuthServiceEnv } from '../auth.env';
import { AuthErrorCode, AuthException } from '../auth.exception';
import { TokensService } from './tokens.service';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Issues service tokens against the per-service credentials in SERVICE_CREDENTIALS. */
@Injectable()
export class ServiceCredentials {
  private readonly secrets: Map<string, Buffer>;

  constructor(
    private readonly tokens: TokensService,
    private readonly audit: AuditService,
    @Inject(AUTH_ENV) env: AuthServiceEnv,
  ) {
    this.secrets = new Map(
      (env.SERVICE_CREDENTIALS ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => {
          const [name, secret] = pair.split(':');
          return [name, digest(secret)] as const;
        }),
    );
  }

  async issue(dto: ServiceTokenDto): Promise<{ accessToken: string; expiresIn: number }> {
    const sub = `svc:${dto.service}`;
    const expected = this.secrets.get(dto.service);
    const ok =
      timingSafeEqual(digest(dto.secret), expected ?? digest(`\0${dto.secret}`)) && !!expected;
    if (!ok) {
      await this.audit.record({ type: 'service-token.refused', userId: sub });
      throw new AuthException(AuthErrorCode.InvalidServiceCredentials);
    }
    await this.audit.record({ type: 'service-token.issued', userId: sub, actorId: sub });
    return this.tokens.serviceToken(dto.service);
  }
}
