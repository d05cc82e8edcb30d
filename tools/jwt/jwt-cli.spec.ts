import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomUUID, sign } from 'node:crypto';
import { keyPair } from '@baton/testing';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ACCESS_TOKEN_TYPE,
  ALGORITHM_ALLOWLIST,
  AuthEnv,
  MAX_CLOCK_SKEW_SECONDS,
  MAX_TOKEN_LENGTH,
  readTokenHeader,
} from '@baton/auth';
import { ROLES } from '@baton/contracts';

/*
 * The CLI as its users run it: a child process (`node tools/jwt/jwt-cli.cjs …` from the workspace
 * root), fed tokens minted here with node:crypto and a JWKS written to a temp dir or served over
 * HTTP. Exit codes: 0 valid or decoded, 1 invalid, 2 usage or bad input.
 */

const ROOT = resolve(__dirname, '../..');
const CLI = 'tools/jwt/jwt-cli.cjs';
// Only PATH: no JWT_ISSUER/JWT_AUDIENCE or npm variables from the environment running the tests.
const ENV = { PATH: process.env['PATH'] ?? '' };

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. Blocks the event loop, so not for the in-process HTTP server. */
const sut = (args: string[], input?: string, env: Record<string, string> = {}): Run => {
  const res = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...ENV, ...env },
    input,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
};

/** Runs the CLI without blocking, so that a server in this process can answer it. */
const sutAsync = (args: string[]): Promise<Run> =>
  new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });

// ---------------------------------------------------------------------------------------------
// Tokens

const b64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

type Json = Record<string, unknown>;

class Signer {
  readonly kid = `kid-${randomUUID().slice(0, 8)}`;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(readonly alg: 'RS256' | 'ES256' | 'EdDSA') {
    const pair = keyPair(alg);
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  jwk(): Json {
    return {
      ...this.publicKey.export({ format: 'jwk' }),
      kid: this.kid,
      alg: this.alg,
      use: 'sig',
    };
  }

  sign(header: Json = {}, claims: Json = baseClaims()): string {
    const input = `${b64url({ alg: this.alg, typ: 'at+jwt', kid: this.kid, ...header })}.${b64url(claims)}`;
    const key =
      this.alg === 'ES256'
        ? { key: this.privateKey, dsaEncoding: 'ieee-p1363' as const }
        : this.privateKey;
    const digest = this.alg === 'EdDSA' ? null : 'sha256';
    return `${input}.${sign(digest, Buffer.from(input), key).toString('base64url')}`;
  }
}

function baseClaims(overrides: Json = {}): Json {
  const t = now();
  return {
    iss: 'baton-auth',
    aud: 'baton',
    sub: randomUUID(),
    jti: randomUUID(),
    sid: randomUUID(),
    roles: ['user'],
    iat: t,
    exp: t + 900,
    ...overrides,
  };
}

function without(name: string): Json {
  const claims = baseClaims();
  delete claims[name];
  return claims;
}

/** The line of the Checks table for one rule, e.g. `FAIL  aud  expected "baton", …`. */
const checkLine = (out: string, name: string): string =>
  out.split('\n').find((line) => new RegExp(`^  (ok  |FAIL|-- )\\s+${name} `).test(line)) ??
  `(no check line for ${name} in:\n${out})`;

/** The names of the failed checks (the name column is 13 characters wide). */
const failedChecks = (out: string): string[] =>
  out
    .split('\n')
    .filter((line) => line.startsWith('  FAIL  '))
    .map((line) => line.slice(8, 21).trim());

// ---------------------------------------------------------------------------------------------

describe('jwt-cli inspect', () => {
  const rsa = new Signer('RS256');
  const ec = new Signer('ES256');
  const ed = new Signer('EdDSA');
  const stranger = new Signer('RS256');
  let dir: string;
  let jwksFile: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jwt-cli-'));
    jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [rsa.jwk(), ec.jwk(), ed.jwk()] }));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const inspect = (token: string, ...options: string[]): Run =>
    sut(['inspect', token, '--jwks', jwksFile, ...options]);

  describe('with a JWKS', () => {
    it('should accept a good RS256 token and show its header, claims and times (exit 0)', () => {
      const claims = baseClaims();
      const token = rsa.sign({}, claims);
      const exp = claims['exp'] as number;

      const run = inspect(token);

      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`"kid": "${rsa.kid}"`);
      expect(run.stdout).toContain('"iss": "baton-auth"');
      expect(run.stdout).toContain(`exp  ${new Date(exp * 1000).toISOString()}  (expires in 1`);
      expect(run.stdout).toMatch(/\(expires in 1[45] min\)/);
      expect(run.stdout).toMatch(/iat {2}\S+Z {2}\(issued (just now|\d s ago)\)/);
      expect(checkLine(run.stdout, 'signature')).toContain(
        `verifies with key "${rsa.kid}" (RS256)`,
      );
      expect(run.stdout).toContain('Result  VALID');
    });

    it('should accept a good ES256 token', () => {
      const run = inspect(ec.sign());

      expect(run.status).toBe(0);
      expect(checkLine(run.stdout, 'key')).toContain('EC P-256, ES256');
    });

    it('should accept a good EdDSA token, and refuse it under the EC key', () => {
      const run = inspect(ed.sign());

      expect(run.status).toBe(0);
      expect(checkLine(run.stdout, 'key')).toContain('Ed25519, EdDSA');
      expect(checkLine(run.stdout, 'signature')).toContain(`verifies with key "${ed.kid}" (EdDSA)`);

      const crossed = inspect(ed.sign({ kid: ec.kid }));
      expect(crossed.status).toBe(1);
      expect(checkLine(crossed.stdout, 'key')).toContain(
        `the header says "EdDSA" but key "${ec.kid}" is ES256`,
      );
    });

    it('should refuse an expired token and say how long ago it expired (exit 1)', () => {
      const run = inspect(
        rsa.sign({}, baseClaims({ iat: now() - 3 * 3600 - 360, exp: now() - 3 * 3600 - 60 })),
      );

      expect(run.status).toBe(1);
      expect(run.stdout).toContain('(expired 3 h ago)');
      expect(checkLine(run.stdout, 'exp')).toMatch(
        /FAIL\s+exp\s+expired 3 h ago \(beyond the 30 s tolerance\)/,
      );
      expect(failedChecks(run.stdout)).toEqual(['exp']);
      expect(run.stdout).toContain('Result  INVALID: 1 check failed: exp');
    });

    it('should refuse a token that claims to live longer than ACCESS_TOKEN_TTL (exit 1)', () => {
      const t = now();
      const run = inspect(rsa.sign({}, baseClaims({ iat: t, exp: t + 365 * 86_400 })));

      expect(run.status).toBe(1);
      expect(checkLine(run.stdout, 'lifetime')).toMatch(
        /FAIL\s+lifetime\s+31536000 s, longer than ACCESS_TOKEN_TTL \(900 s\): Baton issues none so long/,
      );
      expect(failedChecks(run.stdout)).toEqual(['lifetime']);
    });

    it("should bound the lifetime by the environment's ACCESS_TOKEN_TTL", () => {
      const t = now();
      const token = rsa.sign({}, baseClaims({ iat: t, exp: t + 1800 }));

      expect(inspect(token).status).toBe(1);
      const run = sut(['inspect', token, '--jwks', jwksFile], undefined, {
        ACCESS_TOKEN_TTL: '3600',
      });
      expect(run.status).toBe(0);
      expect(checkLine(run.stdout, 'lifetime')).toContain(
        '1800 s, within ACCESS_TOKEN_TTL (3600 s)',
      );
    });

    it('should accept a token that expired within the 30 s clock-skew tolerance', () => {
      const run = inspect(rsa.sign({}, baseClaims({ iat: now() - 300, exp: now() - 10 })));

      expect(run.status).toBe(0);
      expect(checkLine(run.stdout, 'exp')).toContain('within the 30 s tolerance');
    });

    it.each([
      ['nbf', 'not valid for another 2 min'],
      ['iat', 'issued 2 min in the future'],
    ])('should refuse a token whose %s is beyond the skew tolerance', (claim, why) => {
      const run = inspect(rsa.sign({}, baseClaims({ [claim]: now() + 150 })));

      expect(run.status).toBe(1);
      expect(checkLine(run.stdout, claim)).toContain(why);
      expect(failedChecks(run.stdout)).toEqual([claim]);
    });

    it('should refuse a token whose typ is not at+jwt, naming what it has', () => {
      const run = inspect(rsa.sign({ typ: 'JWT' }));

      expect(run.status).toBe(1);
      expect(checkLine(run.stdout, 'typ')).toContain('must be "at+jwt", the token has "JWT"');
      expect(failedChecks(run.stdout)).toEqual(['typ']);
    });

    it('should refuse a token for another audience, naming both', () => {
      const run = inspect(rsa.sign({}, baseClaims({ aud: 'billing' })));

      expect(run.status).toBe(1);
      expect(checkLine(run.stdout, 'aud')).toContain('expected "baton", the token has "billing"');
      expect(failedChecks(run.stdout)).toEqual(['aud']);
    });

    it('should check the issuer and audience given with --iss and --aud', () => {
      const token = rsa.sign(
        {},
        baseClaims({ iss: 'https://id.example', aud: ['orders', 'billing'] }),
      );

      expect(inspect(token).status).toBe(1);
      expect(inspect(token, '--iss', 'https://id.example', '--aud=billing').status).toBe(0);
    });

    it('should refuse a tampered payload: the signature no longer verifies', () => {
      const [h, , s] = rsa.sign().split('.');
      const tampered = `${h}.${b64url(baseClaims({ roles: ['admin'] }))}.${s}`;

      const run = inspect(tampered);

      expect(run.status).toBe(1);
      expect(checkLine(run.stdout, 'signature')).toContain('does not verify');
      expect(failedChecks(run.stdout)).toEqual(['signature']);
    });

    it('should refuse HS256 keyed with the public key, without ever verifying it as HMAC', () => {
      const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
      const input = `${b64url({ alg: 'HS256', typ: 'at+jwt', kid: rsa.kid })}.${b64url(baseClaims())}`;
      const token = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;

      const run = inspect(token);

      expect(run.status).toBe(1);
      expect(checkLine(run.stdout, 'alg')).toContain(
        '"HS256" is not on the allowlist (RS256, ES256, EdDSA)',
      );
      expect(checkLine(run.stdout, 'key')).toContain('the header says "HS256" but key');
      expect(checkLine(run.stdout, 'signature')).toContain('does not verify');
    });

    it('should refuse an unsigned token (alg "none")', () => {
      const token = `${b64url({ alg: 'none', typ: 'at+jwt', kid: rsa.kid })}.${b64url(baseClaims())}.`;

      const run = inspect(token);

      expect(run.status).toBe(1);
      expect(failedChecks(run.stdout)).toEqual(
        expect.arrayContaining(['encoding', 'alg', 'signature']),
      );
    });

    it('should refuse a token signed by a key the JWKS does not hold, listing the kids it does', () => {
      const run = inspect(stranger.sign());

      expect(run.status).toBe(1);
      expect(checkLine(run.stdout, 'key')).toContain(
        `no key with kid "${stranger.kid}" in the JWKS (it holds "${rsa.kid}", "${ec.kid}", "${ed.kid}")`,
      );
      expect(checkLine(run.stdout, 'signature')).toMatch(/^ {2}-- /);
    });

    it('should refuse a token that brings its own key (jku, jwk headers)', () => {
      const run = inspect(
        stranger.sign({ kid: rsa.kid, jku: 'https://evil.example/jwks.json', jwk: stranger.jwk() }),
      );

      expect(run.status).toBe(1);
      expect(checkLine(run.stdout, 'header params')).toContain('carries jku, jwk');
      expect(checkLine(run.stdout, 'signature')).toContain('does not verify');
    });

    it('should name each required claim that is missing', () => {
      for (const claim of ['sub', 'jti', 'sid', 'roles', 'iat', 'exp']) {
        const run = inspect(rsa.sign({}, without(claim)));

        expect({ claim, status: run.status, failed: failedChecks(run.stdout) }).toEqual({
          claim,
          status: 1,
          failed: [claim],
        });
        expect(checkLine(run.stdout, claim)).toContain('missing');
      }
    });

    it('should refuse roles outside user, admin and service', () => {
      const run = inspect(rsa.sign({}, baseClaims({ roles: ['root'] })));

      expect(run.status).toBe(1);
      expect(checkLine(run.stdout, 'roles')).toContain(
        'must be an array of "user", "admin", "service"',
      );
    });

    it(`should refuse a token longer than ${MAX_TOKEN_LENGTH} characters`, () => {
      const run = inspect(rsa.sign({}, baseClaims({ pad: 'x'.repeat(MAX_TOKEN_LENGTH) })));

      expect(run.status).toBe(1);
      expect(failedChecks(run.stdout)).toEqual(['size']);
    });

    it('should say that revocation is not checked', () => {
      expect(checkLine(inspect(rsa.sign()).stdout, 'revocation')).toContain('baton_revocations');
    });
  });

  describe('the token itself', () => {
    it.each([
      ['a good token', () => rsa.sign()],
      ['an invalid token', () => rsa.sign({ typ: 'JWT' })],
      ['a token with a bad signature segment', () => `${rsa.sign()}x`],
    ])('should never print %s back in full', (_label, mint) => {
      const token = mint();
      const signature = token.split('.')[2];

      for (const run of [inspect(token), sut(['inspect', token]), sut(['inspect', '-'], token)]) {
        const output = run.stdout + run.stderr;
        expect(output).not.toContain(token);
        expect(output).not.toContain(signature);
        expect(output).toContain(token.slice(0, 12));
      }
    });

    it('should read the token from stdin when it is "-"', () => {
      const run = sut(['inspect', '-', '--jwks', jwksFile], `${rsa.sign()}\n`);

      expect(run.status).toBe(0);
      expect(run.stdout).toContain('Result  VALID');
    });

    it('should take a token pasted with its "Bearer " prefix', () => {
      expect(sut(['inspect', '-', '--jwks', jwksFile], `Bearer ${rsa.sign()}`).status).toBe(0);
    });

    it('should decode without a JWKS, exit 0 and say the signature was not verified', () => {
      const run = sut(['inspect', rsa.sign({}, baseClaims({ aud: 'billing' }))]);

      expect(run.status).toBe(0);
      expect(checkLine(run.stdout, 'signature')).toContain('no --jwks given');
      expect(run.stdout).toContain(
        'Result  DECODED: signature not verified (no --jwks); Baton would refuse it anyway: aud',
      );
    });
  });

  describe('bad input', () => {
    const garbage: Array<[string, string, RegExp]> = [
      ['garbage', 'this-is-not-a-token', /expected 3 dot-separated segments .*found 1/],
      ['two segments', `${b64url({ alg: 'RS256' })}.${b64url({ sub: 'x' })}`, /found 2$/],
      ['five segments (a JWE)', 'a.b.c.d.e', /found 5 \(5 is a JWE/],
      [
        'a header that is not JSON',
        `${b64url('{alg: RS256')}.${b64url({})}.c2ln`,
        /the header does not decode to JSON/,
      ],
      [
        'a payload that is not JSON',
        `${b64url({ alg: 'RS256' })}.${b64url('hello')}.c2ln`,
        /the payload does not decode to JSON/,
      ],
      [
        'a header that is an array',
        `${b64url([1])}.${b64url({})}.c2ln`,
        /the header is JSON but not an object/,
      ],
      [
        'characters outside base64url',
        `${b64url({ alg: 'RS256' })}.$$$.c2ln`,
        /the payload segment is not base64url/,
      ],
    ];

    it.each(garbage)(
      'should refuse %s with one clear line and exit 2',
      (_label, token, message) => {
        const run = sut(['inspect', token, '--jwks', jwksFile]);

        expect(run.status).toBe(2);
        expect(run.stdout).toBe('');
        expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
        expect(run.stderr).toMatch(/^jwt: /);
        expect(run.stderr.trimEnd()).toMatch(message);
      },
    );

    it.each([
      ['no arguments', []],
      ['no token', ['inspect']],
      ['an unknown command', ['decode', 'x.y.z']],
      ['an unknown option', ['inspect', 'x.y.z', '--key', 'k']],
      ['--jwks without a value', ['inspect', 'x.y.z', '--jwks']],
    ])('should exit 2 on %s, without a stack trace', (_label, args) => {
      const run = sut(args);

      expect(run.status).toBe(2);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stderr.length).toBeGreaterThan(0);
    });

    it('should exit 2 when the JWKS file cannot be read or is not a JWKS', () => {
      const notJwks = join(dir, 'not-jwks.json');
      writeFileSync(notJwks, '{"kty":"RSA"}');

      const missing = sut(['inspect', rsa.sign(), '--jwks', join(dir, 'missing.json')]);
      const wrong = sut(['inspect', rsa.sign(), '--jwks', notJwks]);

      expect([missing.status, missing.stderr.trim()]).toEqual([
        2,
        expect.stringContaining('ENOENT'),
      ]);
      expect([wrong.status, wrong.stderr.trim()]).toEqual([
        2,
        expect.stringContaining('has no "keys" array'),
      ]);
    });
  });

  describe('with a JWKS served over HTTP', () => {
    let server: Server;
    let base: string;

    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === '/.well-known/jwks.json') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ keys: [rsa.jwk()] }));
          return;
        }
        res.writeHead(404).end();
      });
      await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise((closed) => server.close(closed));
    });

    it('should fetch the keys from the URL and verify with them', async () => {
      const run = await sutAsync([
        'inspect',
        rsa.sign(),
        '--jwks',
        `${base}/.well-known/jwks.json`,
      ]);

      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`JWKS ${base}/.well-known/jwks.json`);
      expect(checkLine(run.stdout, 'signature')).toContain('verifies');
    });

    it('should exit 2 when the URL does not answer with a JWKS', async () => {
      const run = await sutAsync(['inspect', rsa.sign(), '--jwks', `${base}/nowhere`]);

      expect(run.status).toBe(2);
      expect(run.stderr.trim()).toBe(`jwt: the JWKS URL ${base}/nowhere answered HTTP 404`);
    });
  });
});

describe('jwt-cli rules', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RULES } = require('./jwt-cli.cjs') as {
    RULES: {
      algorithms: string[];
      accessTokenType: string;
      maxClockSkewSeconds: number;
      maxTokenLength: number;
      forbiddenHeaderParams: string[];
      roles: string[];
      defaultIssuer: string;
      defaultAudience: string;
    };
  };

  it('should apply the same rules as @baton/auth', () => {
    const env = new AuthEnv();

    expect(RULES).toMatchObject({
      algorithms: [...ALGORITHM_ALLOWLIST],
      accessTokenType: ACCESS_TOKEN_TYPE,
      maxClockSkewSeconds: MAX_CLOCK_SKEW_SECONDS,
      maxTokenLength: MAX_TOKEN_LENGTH,
      roles: [...ROLES],
      defaultIssuer: env.JWT_ISSUER,
      defaultAudience: env.JWT_AUDIENCE,
    });
  });

  it('should refuse only header parameters that @baton/auth refuses too', () => {
    const header = { alg: 'RS256', typ: 'at+jwt', kid: 'k1' };
    for (const name of RULES.forbiddenHeaderParams) {
      const token = `${b64url({ ...header, [name]: 'x' })}.${b64url({})}.c2ln`;
      expect(() => readTokenHeader(token)).toThrow('unsupported header parameter');
    }
  });
});
