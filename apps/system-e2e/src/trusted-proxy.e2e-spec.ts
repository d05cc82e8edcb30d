import { bootSystem, queryServiceDb } from '@baton/testing';
import type { BootedSystem, HttpClient } from '@baton/testing';

/*
 * The gateway behind a proxy at 127.0.0.1 (TRUST_PROXY=loopback). A proxy such as nginx with
 * `$proxy_add_x_forwarded_for` appends the address it saw to whatever X-Forwarded-For the client
 * sent, so only the last entry is the proxy's; every entry before it is the client's own writing.
 * Here the test plays both: its requests come from 127.0.0.1 with a header whose last entry is the
 * address the proxy saw.
 */
describe('client addresses behind a trusted proxy', () => {
  let booted: BootedSystem;
  let http: HttpClient;

  /** A header as the proxy passes it on: what the client wrote, then the address it saw. */
  const forwarded = (clientWrote: string, proxySaw: string) => ({
    'x-forwarded-for': `${clientWrote}, ${proxySaw}`,
  });
  const audited = async (type: string) =>
    queryServiceDb<{ client_ip: string | null }>(
      booted.db,
      'auth',
      `SELECT client_ip FROM audit_events WHERE type = '${type}'`,
    );

  beforeAll(async () => {
    booted = await bootSystem({ env: { TRUST_PROXY: 'loopback' } });
    http = booted.http;
  });

  afterAll(async () => {
    await booted?.stop();
  });

  it('should take the address the proxy saw, not one the client wrote before it', async () => {
    const user = { email: 'proxied@example.test', password: 'proxied-password-1' };
    expect((await http.post('/auth/register', user)).status).toBe(201);

    const login = await http.post('/auth/login', user, undefined, {
      ...forwarded('198.51.100.1', '203.0.113.7'),
    });

    expect(login.status).toBe(200);
    expect(await audited('login.succeeded')).toEqual([{ client_ip: '203.0.113.7' }]);
  });

  it('should block an address after 20 failed logins, whatever the client writes in the header', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      // a different unknown account each time, so that only the per-address count can block
      const attempt = { email: `nobody-${i}@example.test`, password: 'wrong-password-x' };
      const res = await http.post('/auth/login', attempt, undefined, {
        ...forwarded(`198.51.100.${i + 10}`, '203.0.113.8'),
      });
      statuses.push(res.status);
    }
    const blocked = await http.post(
      '/auth/login',
      { email: 'nobody-else@example.test', password: 'wrong-password-x' },
      undefined,
      forwarded('198.51.100.200', '203.0.113.8'),
    );
    const another = await http.post(
      '/auth/login',
      { email: 'nobody-else@example.test', password: 'wrong-password-x' },
      undefined,
      forwarded('198.51.100.201', '203.0.113.9'),
    );

    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // another client behind the same proxy is not blocked with it
    expect(another.status).toBe(401);
    const failed = await audited('login.failed');
    expect(failed.filter((e) => e.client_ip === '203.0.113.8')).toHaveLength(21);
    expect(failed.filter((e) => e.client_ip?.startsWith('198.51.100.'))).toEqual([]);
  });

  it("should take the proxy's own address when it added none", async () => {
    const user = { email: 'direct@example.test', password: 'direct-password-12' };
    await http.post('/auth/register', user);
    const addresses = async () => (await audited('login.succeeded')).map((e) => e.client_ip).sort();
    const before = await addresses();

    expect((await http.post('/auth/login', user)).status).toBe(200);
    expect(await addresses()).toEqual([...before, '127.0.0.1'].sort());
  });
});
