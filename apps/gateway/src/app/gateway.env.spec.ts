import { fastify } from 'fastify';
import { validateConfig } from '@baton/auth';
import { GatewayEnv, trustProxyOf } from './gateway.env';

describe('TRUST_PROXY', () => {
  it.each([
    ['unset', undefined, false],
    ['empty', '', false],
    ['false', 'false', false],
    ['0', '0', false],
    ['an address', '10.0.0.7', ['10.0.0.7']],
    [
      'subnets and range names',
      '10.0.0.0/8, fd00::/8,loopback',
      ['10.0.0.0/8', 'fd00::/8', 'loopback'],
    ],
  ])('should read %s as Fastify trustProxy', (_label, value, expected) => {
    const env = validateConfig(GatewayEnv, value === undefined ? {} : { TRUST_PROXY: value });

    expect(trustProxyOf(env.TRUST_PROXY)).toEqual(expected);
  });

  it.each([
    ['true: every entry, which the client may have written', 'true'],
    ['a hop count', '1'],
    ['a word', 'yes'],
    ['a host name', 'proxy.internal'],
    ['an address with a port', '10.0.0.7:8080'],
    ['a subnet of every address', '0.0.0.0/0'],
    ['an address in another notation', '012.0.0.1'],
    ['a netmask', '10.0.0.0/255.0.0.0'],
    ['an IPv4 prefix over 32', '10.0.0.0/33'],
    ['an IPv6 prefix over 128', 'fd00::/129'],
    ['a prefix that is not a number', '10.0.0.0/eight'],
    ['two prefixes', '10.0.0.0/8/8'],
    ['an empty entry', '10.0.0.7,,10.0.0.8'],
  ])('should refuse %s at start', (_label, value) => {
    expect(trustProxyOf(value)).toBeUndefined();
    expect(() => validateConfig(GatewayEnv, { TRUST_PROXY: value })).toThrow(
      'TRUST_PROXY must be false or the comma-separated addresses or subnets of the proxies in front of the gateway (such as 10.0.0.0/8 or loopback)',
    );
  });

  describe('the client address Fastify takes with it', () => {
    /** request.ip for a request from `from` with X-Forwarded-For `forwarded`, under `setting`. */
    async function clientAddress(setting: string, from: string, forwarded?: string) {
      const app = fastify({ trustProxy: trustProxyOf(setting) });
      app.get('/', (request) => ({ ip: request.ip }));
      try {
        const res = await app.inject({
          url: '/',
          remoteAddress: from,
          headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
        });
        return res.json<{ ip: string }>().ip;
      } finally {
        await app.close();
      }
    }

    it.each([
      [
        'with no proxy trusted, the connection',
        'false',
        '10.0.0.7',
        '198.51.100.1, 203.0.113.7',
        '10.0.0.7',
      ],
      [
        'from a trusted proxy, the entry it added, not what the client wrote before it',
        '10.0.0.0/8',
        '10.0.0.7',
        '198.51.100.1, 203.0.113.7',
        '203.0.113.7',
      ],
      [
        'through two trusted proxies, the entry the farther one added',
        '10.0.0.0/8',
        '10.0.0.7',
        '198.51.100.1, 203.0.113.7, 10.0.0.9',
        '203.0.113.7',
      ],
      [
        'from a client that connects directly, the connection, whatever it wrote',
        '10.0.0.0/8',
        '203.0.113.50',
        '10.0.0.9, 10.0.0.8',
        '203.0.113.50',
      ],
      [
        'from a trusted proxy without the header, the proxy',
        'loopback',
        '127.0.0.1',
        undefined,
        '127.0.0.1',
      ],
    ])(
      'should take as the client address, %s',
      async (_label, setting, from, forwarded, expected) => {
        await expect(clientAddress(setting, from, forwarded)).resolves.toBe(expected);
      },
    );
  });
});
