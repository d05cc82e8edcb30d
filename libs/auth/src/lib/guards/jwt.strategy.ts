import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { JwtPayload } from 'jsonwebtoken';
import { ROLES } from '@baton/contracts';
import type { Role } from '@baton/contracts';
import {
  ACCESS_TOKEN_TYPE,
  BATON_AUTH_OPTIONS,
  JWT_STRATEGY,
  MAX_CLOCK_SKEW_SECONDS,
} from '../auth.constants';
import type { BatonAuthOptions } from '../baton-auth.options';
import { KeyStore } from '../keys/key-store';
import { RevocationStore } from '../revocation/revocation-store';
import type { Principal } from '../principal';

interface CompleteToken {
  header: { typ?: unknown };
  payload: JwtPayload | string;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isTime = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/**
 * Verifies access tokens with passport-jwt: the key named by `kid` from the JWKS, the algorithm
 * allowlist, `iss`, `aud`, `exp`, `nbf` (jsonwebtoken), then here `typ`, required claims, `iat`
 * not in the future and the revocation list.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(
    keys: KeyStore,
    @Inject(BATON_AUTH_OPTIONS) options: BatonAuthOptions,
    private readonly revocations: RevocationStore,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // jsonwebtoken takes a KeyObject at run time; passport-jwt's types only name string | Buffer.
      secretOrKeyProvider: (_req, rawJwt: string, done: (err: unknown, key?: string) => void) => {
        keys.keyForToken(rawJwt).then(
          (key) => done(null, key as unknown as string),
          (err: unknown) => done(err),
        );
      },
      algorithms: [...options.algorithms],
      issuer: options.issuer,
      audience: options.audience,
      ignoreExpiration: false,
      jsonWebTokenOptions: { complete: true, clockTolerance: MAX_CLOCK_SKEW_SECONDS },
    });
  }

  validate(token: CompleteToken): Principal {
    const typ = token.header.typ;
    if (typeof typ !== 'string' || !/^(application\/)?at\+jwt$/i.test(typ)) {
      throw new UnauthorizedException(`token type must be ${ACCESS_TOKEN_TYPE}`);
    }
    const p = token.payload;
    if (typeof p !== 'object' || p === null) {
      throw new UnauthorizedException('token payload is not an object');
    }
    const { sub, jti, sid, iat, exp, roles } = p as Record<string, unknown>;
    if (!isString(sub) || !isString(jti) || !isString(sid) || !isTime(iat) || !isTime(exp)) {
      throw new UnauthorizedException('token lacks a required claim');
    }
    if (iat > Date.now() / 1000 + MAX_CLOCK_SKEW_SECONDS) {
      throw new UnauthorizedException('token issued in the future');
    }
    if (!Array.isArray(roles) || !roles.every((r) => ROLES.includes(r as Role))) {
      throw new UnauthorizedException('token roles are malformed');
    }
    const principal: Principal = { sub, jti, sid, iat, exp, roles: roles as Role[] };
    this.revocations.assertUsable(principal);
    return principal;
  }
}
