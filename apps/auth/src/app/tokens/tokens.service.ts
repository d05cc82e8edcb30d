import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { In, IsNull } from 'typeorm';
import type { DataSource, Repository } from 'typeorm';
import { Events } from '@baton/contracts';
import type { Role, TokenPair } from '@baton/contracts';
import { ACCESS_TOKEN_TYPE, BatonClient, RevocationStore } from '@baton/auth';
import { runInTransaction } from '@baton/persistence';
import type { Principal } from '@baton/auth';
import { AuditService } from '../audit/audit.service';
import { AUTH_ENV, AuthServiceEnv } from '../auth.env';
import { AuthErrorCode, AuthException } from '../auth.exception';
import { RefreshTokenEntity, SessionEntity } from '../entities';
import { SigningKeysService } from '../keys/signing-keys.service';
import { signCompactJws } from './jws';

const REVOCATION_MARGIN_SECONDS = 60;
const SERVICE_TOKEN_TTL = 300;

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * Access tokens (short-lived JWS, `typ: at+jwt`, with `kid`), refresh tokens (opaque, 256 random
 * bits, stored as SHA-256 hashes, rotated on every use, a reused one kills its family) and the
 * revocations that make logout and role changes take effect everywhere.
 */
@Injectable()
export class TokensService {
  constructor(
    private readonly keys: SigningKeysService,
    private readonly revocations: RevocationStore,
    private readonly audit: AuditService,
    private readonly client: BatonClient,
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    @InjectRepository(RefreshTokenEntity)
    private readonly refreshTokens: Repository<RefreshTokenEntity>,
    @Inject(AUTH_ENV) private readonly env: AuthServiceEnv,
  ) {}

  private get dataSource(): DataSource {
    return this.sessions.manager.connection;
  }

  async signAccessToken(
    sub: string,
    roles: Role[],
    sid: string,
    ttl = this.env.ACCESS_TOKEN_TTL,
  ): Promise<string> {
    const key = await this.keys.signingKey();
    const iat = nowSeconds();
    return signCompactJws(
      ACCESS_TOKEN_TYPE,
      {
        iss: this.env.JWT_ISSUER,
        aud: this.env.JWT_AUDIENCE,
        sub,
        jti: randomUUID(),
        iat,
        exp: iat + ttl,
        roles,
        sid,
      },
      key,
    );
  }

  /** A token for a service acting on its own behalf: `sub: svc:<name>`, role `service`. */
  async serviceToken(service: string): Promise<{ accessToken: string; expiresIn: number }> {
    // never longer than ACCESS_TOKEN_TTL, which verifiers allow no token to outlive
    const ttl = Math.min(SERVICE_TOKEN_TTL, this.env.ACCESS_TOKEN_TTL);
    const accessToken = await this.signAccessToken(
      `svc:${service}`,
      ['service'],
      randomUUID(),
      ttl,
    );
    return { accessToken, expiresIn: ttl };
  }

  /** A new login session with its first token pair. */
  async startSession(userId: string, roles: Role[]): Promise<TokenPair> {
    const now = Date.now();
    const session = this.sessions.create({
      id: randomUUID(),
      userId,
      createdAt: new Date(now),
      expiresAt: new Date(now + this.env.SESSION_MAX_TTL * 1000),
      revokedAt: null,
      revokedReason: null,
    });
    const refreshToken = randomBytes(32).toString('base64url');
    await runInTransaction(this.dataSource, async (tx) => {
      await tx.getRepository(SessionEntity).insert(session);
      await tx.getRepository(RefreshTokenEntity).insert(this.newRefreshRow(session, refreshToken));
    });
    return this.pair(userId, roles, session.id, refreshToken);
  }

  /**
   * Rotates a refresh token. Exactly one caller can retire a given token (a conditional update);
   * anyone presenting it afterwards, an attacker or the loser of a race, kills the whole family.
   */
  async refresh(
    presented: string,
    rolesOf: (userId: string) => Promise<Role[] | undefined>,
  ): Promise<TokenPair> {
    const row = await this.refreshTokens.findOneBy({ tokenHash: sha256(presented) });
    if (!row) {
      throw new AuthException(AuthErrorCode.InvalidRefreshToken);
    }
    const session = await this.sessions.findOneBy({ id: row.sessionId });
    if (row.status === 'rotated') {
      await this.reuseDetected(row);
    }
    if (
      row.status !== 'active' ||
      !session ||
      session.revokedAt ||
      new Date(row.expiresAt).getTime() <= Date.now()
    ) {
      throw new AuthException(AuthErrorCode.InvalidRefreshToken);
    }
    const roles = await rolesOf(row.userId);
    if (!roles) {
      throw new AuthException(AuthErrorCode.InvalidRefreshToken);
    }
    const next = randomBytes(32).toString('base64url');
    const won = await runInTransaction(this.dataSource, async (tx) => {
      const repo = tx.getRepository(RefreshTokenEntity);
      const result = await repo.update({ id: row.id, status: 'active' }, { status: 'rotated' });
      if (result.affected !== 1) {
        return false;
      }
      await repo.insert(this.newRefreshRow(session, next));
      return true;
    });
    if (!won) {
      await this.reuseDetected(row);
    }
    await this.audit.record({
      type: 'token.refreshed',
      userId: row.userId,
      actorId: row.userId,
      sessionId: row.sessionId,
    });
    return this.pair(row.userId, roles, session.id, next);
  }

  /** Ends the session of the calling token (and of the presented refresh token, if it is the user's). */
  async logout(principal: Principal, refreshToken?: string): Promise<number> {
    let seq = await this.revocations.revoke(
      'jti',
      principal.jti,
      principal.exp + REVOCATION_MARGIN_SECONDS,
    );
    seq = Math.max(seq, await this.revokeSession(principal.sid, 'logout'));
    if (refreshToken) {
      const row = await this.refreshTokens.findOneBy({ tokenHash: sha256(refreshToken) });
      if (row && row.userId === principal.sub && row.sessionId !== principal.sid) {
        seq = Math.max(seq, await this.revokeSession(row.sessionId, 'logout'));
      }
    }
    await this.audit.record({ type: 'logout', userId: principal.sub, sessionId: principal.sid });
    return seq;
  }

  /** Revokes every live session of a user: their refresh tokens and access tokens die at once. */
  async revokeAllSessions(userId: string, reason: string): Promise<number> {
    const live = await this.sessions.find({
      where: { userId, revokedAt: IsNull() },
      select: { id: true },
    });
    let seq = 0;
    for (const s of live) {
      seq = Math.max(seq, await this.revokeSession(s.id, reason));
    }
    return seq;
  }

  private async revokeSession(sessionId: string, reason: string): Promise<number> {
    await runInTransaction(this.dataSource, async (tx) => {
      await tx
        .getRepository(SessionEntity)
        .update(
          { id: sessionId, revokedAt: IsNull() },
          { revokedAt: new Date(), revokedReason: reason },
        );
      await tx
        .getRepository(RefreshTokenEntity)
        .update({ sessionId, status: In(['active', 'rotated']) }, { status: 'revoked' });
    });
    const until = nowSeconds() + this.env.ACCESS_TOKEN_TTL + REVOCATION_MARGIN_SECONDS;
    const seq = await this.revocations.revoke('sid', sessionId, until);
    await this.client
      .emit(Events.revoked, { kind: 'sid', id: sessionId }, { asService: true })
      .catch(() => undefined);
    return seq;
  }

  private async reuseDetected(row: RefreshTokenEntity): Promise<never> {
    await this.revokeSession(row.sessionId, 'refresh-token-reuse');
    await this.audit.record({
      type: 'refresh.reused',
      userId: row.userId,
      sessionId: row.sessionId,
    });
    throw new AuthException(AuthErrorCode.RefreshTokenReused);
  }

  private newRefreshRow(session: SessionEntity, token: string): RefreshTokenEntity {
    const idleEnd = Date.now() + this.env.REFRESH_TOKEN_TTL * 1000;
    return this.refreshTokens.create({
      id: randomUUID(),
      sessionId: session.id,
      userId: session.userId,
      tokenHash: sha256(token),
      status: 'active',
      createdAt: new Date(),
      expiresAt: new Date(Math.min(idleEnd, new Date(session.expiresAt).getTime())),
    });
  }

  private async pair(
    userId: string,
    roles: Role[],
    sid: string,
    refreshToken: string,
  ): Promise<TokenPair> {
    return {
      accessToken: await this.signAccessToken(userId, roles, sid),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.env.ACCESS_TOKEN_TTL,
    };
  }
}
