import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import {
  createTestDatabase,
  makeSelfSignedCertificate,
  startNatsServer,
  startSystem,
  workspaceRoot,
} from '@baton/testing';
import type { NatsServerHandle, RunningSystem, TestDatabase } from '@baton/testing';

/** A Set-Cookie header, split into its value and its attributes (lower-cased names). */
interface SetCookie {
  value: string;
  attributes: Record<string, string | true>;
}

function cookiesOf(res: Response): Record<string, SetCookie> {
  const out: Record<string, SetCookie> = {};
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const attributes: Record<string, string | true> = {};
    for (const attr of attrs) {
      const i = attr.indexOf('=');
      if (i < 0) {
        attributes[attr.toLowerCase()] = true;
      } else {
        attributes[attr.slice(0, i).toLowerCase()] = attr.slice(i + 1);
      }
    }
    out[pair.slice(0, eq)] = { value: decodeURIComponent(pair.slice(eq + 1)), attributes };
  }
  return out;
}

const APP_ORIGIN = 'https://app.baton.test';

/** The security headers of an API answer. */
const API_HEADERS = [
  'cache-control',
  'content-security-policy',
  'x-content-type-options',
  'x-frame-options',
  'referrer-policy',
  'cross-origin-resource-policy',
  'strict-transport-security',
];

/** Headers only a browser rendering a page reads: the documentation's pages have them, answers not. */
const PAGE_ONLY_HEADERS = [
  'cross-origin-opener-policy',
  'origin-agent-cluster',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];

/**
 * What a browser app relies on, against the real system: cookie mode with the double-submit CSRF
 * proof, the security headers, the CORS allowlist, and HTTPS with HSTS.
 */
describe('Browser clients', () => {
  const user = { email: 'browser@example.test', password: 'browser-password-1' };

  describe('over plain HTTP with a CORS allowlist', () => {
    let nats: NatsServerHandle;
    let db: TestDatabase;
    let system: RunningSystem;
    const url = (path: string) => `${system.gatewayUrl}${path}`;
    const post = (path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) =>
      fetch(url(path), {
        method: 'POST',
        headers: {
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...init.headers,
        },
        body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      });
    const cookieLogin = async () => {
      const res = await post('/auth/login?mode=cookie', { body: user });
      expect(res.status).toBe(200);
      const cookies = cookiesOf(res);
      return {
        res,
        body: (await res.json()) as Record<string, unknown>,
        refresh: cookies['baton_refresh'].value,
        csrf: cookies['baton_csrf'].value,
        cookies,
      };
    };
    const cookieHeader = (refresh: string, csrf: string) =>
      `baton_refresh=${refresh}; baton_csrf=${csrf}`;

    beforeAll(async () => {
      nats = await startNatsServer();
      db = await createTestDatabase();
      system = await startSystem({
        natsUrl: nats.url,
        storeEnv: db.env,
        env: { CORS_ORIGINS: `${APP_ORIGIN}, http://localhost:5173` },
      });
      expect((await post('/auth/register', { body: user })).status).toBe(201);
    });

    afterAll(async () => {
      await system?.stop();
      await nats?.stop();
      await db?.drop();
    });

    it('should put the refresh token in an HttpOnly, Secure, SameSite=Strict cookie on /auth, not in the body', async () => {
      const { res, body, cookies } = await cookieLogin();
      expect(Object.keys(body).sort()).toEqual(['accessToken', 'expiresIn', 'tokenType']);
      expect(cookies['baton_refresh'].value).toMatch(/.{20,}/);
      expect(JSON.stringify(body)).not.toContain(cookies['baton_refresh'].value);
      expect(cookies['baton_refresh'].attributes).toMatchObject({
        httponly: true,
        secure: true,
        samesite: 'Strict',
        path: '/auth',
        'max-age': String(14 * 86_400),
      });
      // The CSRF value: readable by the page (no HttpOnly), also in a response header.
      expect(cookies['baton_csrf'].attributes).toMatchObject({
        secure: true,
        samesite: 'Strict',
        path: '/',
      });
      expect(cookies['baton_csrf'].attributes['httponly']).toBeUndefined();
      expect(res.headers.get('x-csrf-token')).toBe(cookies['baton_csrf'].value);
    });

    it('should keep the JSON mode unchanged and refuse an unknown mode', async () => {
      const res = await post('/auth/login', { body: user });
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(Object.keys((await res.json()) as object).sort()).toEqual([
        'accessToken',
        'expiresIn',
        'refreshToken',
        'tokenType',
      ]);
      expect((await post('/auth/login?mode=jar', { body: user })).status).toBe(400);
    });

    it('should refresh from the cookie with the CSRF header, rotating both cookies', async () => {
      const { refresh, csrf } = await cookieLogin();
      const res = await post('/auth/refresh', {
        headers: { cookie: cookieHeader(refresh, csrf), 'x-csrf-token': csrf },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['accessToken', 'expiresIn', 'tokenType']);
      const rotated = cookiesOf(res);
      expect(rotated['baton_refresh'].value).not.toBe(refresh);
      expect(rotated['baton_csrf'].value).not.toBe(csrf);
      expect(rotated['baton_refresh'].attributes).toMatchObject({ httponly: true, path: '/auth' });
      // The rotated cookie works; the spent one is refused (reuse).
      const next = await post('/auth/refresh', {
        headers: {
          cookie: cookieHeader(rotated['baton_refresh'].value, rotated['baton_csrf'].value),
          'x-csrf-token': rotated['baton_csrf'].value,
        },
      });
      expect(next.status).toBe(200);
    });

    it('should answer 403 to a cookie refresh without the CSRF proof or with a wrong one', async () => {
      const { refresh, csrf } = await cookieLogin();
      const missing = await post('/auth/refresh', {
        headers: { cookie: cookieHeader(refresh, csrf) },
      });
      expect(missing.status).toBe(403);
      expect(missing.headers.getSetCookie()).toEqual([]);
      const wrong = await post('/auth/refresh', {
        headers: { cookie: cookieHeader(refresh, csrf), 'x-csrf-token': `${csrf}x` },
      });
      expect(wrong.status).toBe(403);
      // Without the CSRF cookie, even a header is no proof.
      const noCookie = await post('/auth/refresh', {
        headers: { cookie: `baton_refresh=${refresh}`, 'x-csrf-token': csrf },
      });
      expect(noCookie.status).toBe(403);
      // The refused attempts did not spend the token.
      const ok = await post('/auth/refresh', {
        headers: { cookie: cookieHeader(refresh, csrf), 'x-csrf-token': csrf },
      });
      expect(ok.status).toBe(200);
    });

    it('should clear both cookies on logout and end the session', async () => {
      const { body, refresh, csrf } = await cookieLogin();
      const auth = { authorization: `Bearer ${String(body['accessToken'])}` };
      const refused = await post('/auth/logout', {
        headers: { ...auth, cookie: cookieHeader(refresh, csrf) },
      });
      expect(refused.status).toBe(403);
      const res = await post('/auth/logout', {
        headers: { ...auth, cookie: cookieHeader(refresh, csrf), 'x-csrf-token': csrf },
      });
      expect(res.status).toBe(204);
      const cleared = cookiesOf(res);
      expect(cleared['baton_refresh']).toMatchObject({
        value: '',
        attributes: { 'max-age': '0', path: '/auth' },
      });
      expect(cleared['baton_csrf']).toMatchObject({
        value: '',
        attributes: { 'max-age': '0', path: '/' },
      });
      const after = await post('/auth/refresh', {
        headers: { cookie: cookieHeader(refresh, csrf), 'x-csrf-token': csrf },
      });
      expect(after.status).toBe(401);
      expect((await fetch(url('/auth/me'), { headers: auth })).status).toBe(401);
    });

    it('should send the API security headers on every answer, and no HSTS over plain HTTP', async () => {
      const answers = [
        await fetch(url('/auth/me')),
        await fetch(url('/auth/login'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(user),
        }),
        await fetch(url('/no/such/route')),
      ];
      expect(answers.map((r) => r.status)).toEqual([401, 200, 404]);
      for (const res of answers) {
        expect(Object.fromEntries(API_HEADERS.map((h) => [h, res.headers.get(h)]))).toEqual({
          'cache-control': 'no-store',
          'content-security-policy': "default-src 'none';frame-ancestors 'none'",
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
          'cross-origin-resource-policy': 'same-origin',
          'strict-transport-security': null,
        });
        for (const pageOnly of PAGE_ONLY_HEADERS) {
          expect(res.headers.get(pageOnly)).toBeNull();
        }
      }
      // A handler that says how it may be cached keeps its say.
      const health = await fetch(url('/health'));
      expect(health.headers.get('cache-control')).toBe('no-cache, no-store, must-revalidate');
      expect(health.headers.get('content-security-policy')).toBe(
        "default-src 'none';frame-ancestors 'none'",
      );
    });

    it("should serve the documentation's pages under a policy Swagger UI loads with", async () => {
      const docs = await fetch(url('/docs'));
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain('swagger-ui-bundle.js');
      const policy = docs.headers.get('content-security-policy');
      expect(policy).toContain("default-src 'self'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).not.toContain('upgrade-insecure-requests');
      expect(docs.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      for (const pageOnly of PAGE_ONLY_HEADERS) {
        expect(docs.headers.get(pageOnly)).not.toBeNull();
      }
      // Swagger UI's own script is one of those pages.
      const script = await fetch(url('/docs/swagger-ui-bundle.js'));
      expect(script.status).toBe(200);
      expect(script.headers.get('content-security-policy')).toContain("default-src 'self'");
    });

    it('should allow an allowlisted origin, with credentials, and no other', async () => {
      const preflight = (origin: string) =>
        fetch(url('/auth/refresh'), {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type,x-csrf-token',
          },
        });
      const allowed = await preflight(APP_ORIGIN);
      expect(allowed.status).toBeLessThan(300);
      expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
      expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
        'x-csrf-token',
      );
      const simple = await fetch(url('/health'), { headers: { origin: 'http://localhost:5173' } });
      expect(simple.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(simple.headers.get('access-control-allow-credentials')).toBe('true');

      for (const origin of ['https://evil.example', `${APP_ORIGIN}.evil.example`, 'null']) {
        const refused = await preflight(origin);
        expect(refused.headers.get('access-control-allow-origin')).toBeNull();
        expect(refused.headers.get('access-control-allow-credentials')).toBeNull();
        const get = await fetch(url('/health'), { headers: { origin } });
        expect(get.headers.get('access-control-allow-origin')).toBeNull();
      }
    });
  });

  describe('over HTTPS, with no CORS_ORIGINS', () => {
    let nats: NatsServerHandle;
    let db: TestDatabase;
    let system: RunningSystem;
    let dir: string;
    let cert: string;

    const get = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; headers: Record<string, unknown>; authorized: boolean }>(
        (resolve, reject) => {
          const req = httpsRequest(
            `${system.gatewayUrl}${path}`,
            // The certificate is for localhost; the system listens on 127.0.0.1.
            { ca: cert, servername: 'localhost', checkServerIdentity: () => undefined, headers },
            (res) => {
              const authorized = (res.socket as unknown as { authorized: boolean }).authorized;
              res.resume();
              res.on('end', () =>
                resolve({
                  status: res.statusCode ?? 0,
                  headers: res.headers,
                  authorized,
                }),
              );
            },
          );
          req.on('error', reject);
          req.end();
        },
      );

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'baton-tls-'));
      for (const name of ['', 'renewed-']) {
        makeSelfSignedCertificate({
          cert: join(dir, `${name}cert.pem`),
          key: join(dir, `${name}key.pem`),
        });
      }
      cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      nats = await startNatsServer();
      db = await createTestDatabase();
      system = await startSystem({
        natsUrl: nats.url,
        storeEnv: db.env,
        env: {
          TLS_CERT_FILE: join(dir, 'cert.pem'),
          TLS_KEY_FILE: join(dir, 'key.pem'),
          TLS_RELOAD_INTERVAL_MS: '1000',
        },
      });
    });

    afterAll(async () => {
      await system?.stop();
      await nats?.stop();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('should serve HTTPS with the configured certificate and HSTS', async () => {
      expect(system.gatewayUrl).toMatch(/^https:/);
      const res = await get('/health');
      expect(res).toMatchObject({ status: 200, authorized: true });
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      // The documentation's pages ask the browser to fetch everything they load over HTTPS.
      const docs = await get('/docs');
      expect(docs.status).toBe(200);
      expect(docs.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(docs.headers['content-security-policy']).toContain('upgrade-insecure-requests');
      // Plain HTTP on the same port is not served.
      await expect(
        fetch(system.gatewayUrl.replace('https:', 'http:') + '/health'),
      ).rejects.toThrow();
    });

    it('should allow no cross-origin caller by default', async () => {
      const res = await get('/health', { origin: APP_ORIGIN });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('should serve a renewed certificate on new connections without a restart, and refuse a broken one', async () => {
      const certificateOfNewConnection = () =>
        new Promise<string>((resolve, reject) => {
          const { hostname, port } = new URL(system.gatewayUrl);
          const socket = tlsConnect(
            {
              host: hostname,
              port: Number(port),
              servername: 'localhost',
              rejectUnauthorized: false,
            },
            () => {
              resolve(socket.getPeerCertificate().fingerprint256);
              socket.end();
            },
          );
          socket.on('error', reject);
        });
      const fingerprintOf = (file: string) =>
        new X509Certificate(readFileSync(join(dir, file))).fingerprint256;
      const until = async (fingerprint: string) => {
        let seen = await certificateOfNewConnection();
        for (let i = 0; i < 50 && seen !== fingerprint; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          seen = await certificateOfNewConnection();
        }
        return seen;
      };
      const original = {
        cert: readFileSync(join(dir, 'cert.pem')),
        key: readFileSync(join(dir, 'key.pem')),
      };
      expect(await certificateOfNewConnection()).toBe(fingerprintOf('cert.pem'));
      const renewed = fingerprintOf('renewed-cert.pem');
      try {
        copyFileSync(join(dir, 'renewed-key.pem'), join(dir, 'key.pem'));
        copyFileSync(join(dir, 'renewed-cert.pem'), join(dir, 'cert.pem'));

        expect(await until(renewed)).toBe(renewed);
        expect(system.logs.gateway.join('')).toContain('serving the renewed TLS certificate');

        // a certificate without its key: refused, and the renewed one is still served
        writeFileSync(join(dir, 'cert.pem'), original.cert);
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        expect(system.logs.gateway.join('')).toContain('are not a usable pair');
        expect(await certificateOfNewConnection()).toBe(renewed);
      } finally {
        writeFileSync(join(dir, 'cert.pem'), original.cert);
        writeFileSync(join(dir, 'key.pem'), original.key);
      }
      // the original pair again, for the tests after this one
      expect(await until(fingerprintOf('cert.pem'))).toBe(fingerprintOf('cert.pem'));
      expect(await get('/health')).toMatchObject({ status: 200, authorized: true });
    });

    it('should refuse to start with only one of the TLS files, naming the variable', () => {
      const out = (env: Record<string, string>) => {
        try {
          execFileSync(
            process.execPath,
            [
              '-r',
              join(workspaceRoot(), 'tools/scripts/register-paths.cjs'),
              join(workspaceRoot(), 'dist/apps/gateway/src/main.js'),
            ],
            {
              env: { PATH: process.env['PATH'], NODE_ENV: 'test', GATEWAY_PORT: '0', ...env },
              cwd: workspaceRoot(),
              stdio: 'pipe',
              timeout: 20_000,
            },
          );
          return 'started';
        } catch (err) {
          const e = err as { stdout: Buffer; stderr: Buffer };
          return `${e.stdout.toString()}${e.stderr.toString()}`;
        }
      };
      expect(out({ TLS_CERT_FILE: join(dir, 'cert.pem') })).toContain(
        'TLS_KEY_FILE must be set together with TLS_CERT_FILE',
      );
      expect(
        out({ TLS_CERT_FILE: join(dir, 'cert.pem'), TLS_KEY_FILE: join(dir, 'missing.pem') }),
      ).toContain('TLS_KEY_FILE must name a readable file');
      expect(out({ CORS_ORIGINS: 'https://a.example/path' })).toContain('CORS_ORIGINS must be');
    });
  });
});
