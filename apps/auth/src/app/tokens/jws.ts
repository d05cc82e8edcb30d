import { sign } from 'node:crypto';
import { JWS_ALGORITHMS } from '@baton/auth';
import type { SigningKey } from '../keys/signing-keys.service';

const segment = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A compact JWS (RFC 7515) of `claims`, signed with `key` by its algorithm: `{alg, typ, kid}` as the
 * header, node:crypto for the signature, as `AccessTokenVerifier` checks it. jsonwebtoken (under
 * @nestjs/jwt) cannot sign EdDSA, one of the three algorithms `JWT_ALG` offers.
 */
export function signCompactJws(typ: string, claims: object, key: SigningKey): string {
  const input = `${segment({ alg: key.alg, typ, kid: key.kid })}.${segment(claims)}`;
  const { digest, dsaEncoding } = JWS_ALGORITHMS[key.alg];
  const signature = sign(
    digest,
    Buffer.from(input),
    dsaEncoding ? { key: key.privateKey, dsaEncoding } : key.privateKey,
  );
  return `${input}.${signature.toString('base64url')}`;
}
