import { MAX_TOKEN_LENGTH, readTokenHeader, TokenRejected } from './token-header';

const b64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A compact JWS with the given header; payload and signature are never looked at here. */
const tokenWith = (header: unknown, signature = 'c2lnbmF0dXJl'): string =>
  `${b64url(header)}.${b64url({ sub: 'someone' })}.${signature}`;

const GOOD = { alg: 'RS256', typ: 'at+jwt', kid: 'key-2024_01' };

/** Runs `readTokenHeader` and returns why it refused the token (or fails the test if it did not). */
function refusal(token: string): string {
  try {
    const header = readTokenHeader(token);
    throw new Error(
      `expected the token to be refused, but it was read as ${JSON.stringify(header)}`,
    );
  } catch (err) {
    if (!(err instanceof TokenRejected)) {
      throw err;
    }
    return err.message;
  }
}

describe('readTokenHeader', () => {
  const sut = readTokenHeader;

  describe('accepted headers', () => {
    it.each(['RS256', 'ES256'])('should read a well-formed %s header', (alg) => {
      expect(sut(tokenWith({ ...GOOD, alg }))).toEqual({ alg, kid: GOOD.kid, typ: 'at+jwt' });
    });

    it('should pass `typ` through unchecked (the strategy checks it after the signature)', () => {
      expect(sut(tokenWith({ alg: 'RS256', kid: 'k1' })).typ).toBeUndefined();
      expect(sut(tokenWith({ alg: 'RS256', kid: 'k1', typ: 42 })).typ).toBe(42);
    });

    it('should accept a kid of exactly 128 characters', () => {
      const kid = 'a'.repeat(128);
      expect(sut(tokenWith({ ...GOOD, kid })).kid).toBe(kid);
    });

    it(`should accept a token of exactly ${MAX_TOKEN_LENGTH} characters`, () => {
      const base = tokenWith(GOOD, '');
      const token = base + 'A'.repeat(MAX_TOKEN_LENGTH - base.length);
      expect(token).toHaveLength(MAX_TOKEN_LENGTH);
      expect(sut(token).kid).toBe(GOOD.kid);
    });
  });

  describe('algorithm allowlist', () => {
    it.each([
      'none',
      'None',
      'NONE',
      'nOnE',
      'HS256',
      'HS384',
      'HS512',
      'RS384',
      'RS512',
      'PS256',
      'ES384',
      'ES512',
      'Ed25519',
      'eddsa',
      'rs256',
      'es256',
      'RS256 ',
      '',
    ])('should refuse alg %p, which is not on the allowlist', (alg) => {
      expect(refusal(tokenWith({ ...GOOD, alg }))).toBe('algorithm not allowed');
    });

    it('should refuse a header without alg', () => {
      expect(refusal(tokenWith({ typ: 'at+jwt', kid: 'k1' }))).toBe('algorithm not allowed');
    });

    it.each([[['RS256']], [{ name: 'RS256' }], [256], [null]])(
      'should refuse a non-string alg %p',
      (alg) => {
        expect(refusal(tokenWith({ ...GOOD, alg }))).toBe('algorithm not allowed');
      },
    );
  });

  describe('kid', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['too long (129 characters)', 'a'.repeat(129)],
      ['a path', '../../etc/passwd'],
      ['a URL', 'https://evil.example/key'],
      ['containing a space', 'key 1'],
      ['containing a dot', 'key.1'],
      ['containing a newline', 'key\n1'],
      ['a number', 42],
      ['an array', ['k1']],
      ['null', null],
    ])('should refuse a kid that is %s', (_label, kid) => {
      expect(refusal(tokenWith({ alg: 'RS256', typ: 'at+jwt', kid }))).toBe(
        'missing or malformed kid',
      );
    });
  });

  describe('headers that carry their own key material or rules', () => {
    it.each([
      ['jku', 'https://evil.example/jwks.json'],
      ['jwk', { kty: 'oct', k: 'c2VjcmV0' }],
      ['x5u', 'https://evil.example/cert.pem'],
      ['x5c', ['MIIB...']],
      ['x5t', 'dGh1bWJwcmludA'],
      ['crit', ['exp']],
    ])('should refuse a header carrying %s', (name, value) => {
      expect(refusal(tokenWith({ ...GOOD, [name]: value }))).toBe('unsupported header parameter');
    });

    it('should refuse a forbidden parameter even when its value is null', () => {
      expect(refusal(tokenWith({ ...GOOD, jku: null }))).toBe('unsupported header parameter');
    });
  });

  describe('shape of the token', () => {
    it(`should refuse a token longer than ${MAX_TOKEN_LENGTH} characters before parsing it`, () => {
      const base = tokenWith(GOOD, '');
      const token = base + 'A'.repeat(MAX_TOKEN_LENGTH + 1 - base.length);
      expect(refusal(token)).toBe('token too long');
    });

    it.each([
      ['an empty string', ''],
      ['one segment', b64url(GOOD)],
      ['two segments', `${b64url(GOOD)}.${b64url({ sub: 'x' })}`],
      ['four segments', `${tokenWith(GOOD)}.${b64url('extra')}`],
      ['five segments (JWE)', `${b64url(GOOD)}.a.b.c.d`],
      ['an empty signature', tokenWith(GOOD, '')],
      ['an empty payload', `${b64url(GOOD)}..c2ln`],
      ['standard base64 padding', `${tokenWith(GOOD)}==`],
      ['a "+" (standard base64)', tokenWith(GOOD, 'ab+c')],
      ['a "/" (standard base64)', tokenWith(GOOD, 'ab/c')],
      ['whitespace', ` ${tokenWith(GOOD)}`],
    ])('should refuse %s as not a compact JWS', (_label, token) => {
      expect(refusal(token)).toBe('not a compact JWS');
    });

    it('should refuse a header that is not JSON', () => {
      expect(refusal(`${b64url('{alg: RS256')}.${b64url({})}.c2ln`)).toBe('header is not JSON');
    });

    it.each([
      ['null', 'null'],
      ['an array', '[{"alg":"RS256","kid":"k1"}]'],
      ['a string', '"RS256"'],
      ['a number', '42'],
      ['a boolean', 'true'],
    ])('should refuse a header that is %s rather than an object', (_label, json) => {
      expect(refusal(`${b64url(json)}.${b64url({})}.c2ln`)).toBe('header is not an object');
    });
  });
});
