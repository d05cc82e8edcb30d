import { createConnection } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, Events as NatsEvents, StringCodec } from 'nats';
import type { KV, NatsConnection, NatsError, Status } from 'nats';
import {
  deployNatsServerConfig,
  Events,
  NATS_PERMISSIONS,
  queueGroup,
  REVOCATION_BUCKET,
  REVOCATION_SUBJECTS,
  Subjects,
} from '@baton/contracts';
import { generatedServices, startSecureNatsServer, workspaceRoot } from '@baton/testing';
import type { SecureNatsServerHandle } from '@baton/testing';
import { AuthEnv } from './config/auth-env';
import { validateConfig } from './config/validate-config';
import { natsConnectionOptions, natsSecurityWarnings } from './nats-connection';

const sc = StringCodec();

/** A service's connection, as @baton/auth makes it, with every status event it has seen. */
interface Conn {
  nc: NatsConnection;
  statuses: Status[];
}

/** The error of a subscription the server refused, or undefined when it was accepted. */
async function subscribeOutcome(
  conn: Conn,
  subject: string,
  queue?: string,
): Promise<NatsError | undefined> {
  let refused: NatsError | undefined;
  const sub = conn.nc.subscribe(subject, {
    queue,
    callback: (err) => {
      refused ??= err ?? undefined;
    },
  });
  // The server answers SUB with -ERR before the PONG of a flush.
  await conn.nc.flush();
  await new Promise((r) => setImmediate(r));
  if (!refused) {
    sub.unsubscribe();
  }
  return refused;
}

/** The permission errors the server sent for publishing on `subject`. */
async function publishOutcome(conn: Conn, subject: string): Promise<Status[]> {
  conn.nc.publish(subject, sc.encode('{"forged":true}'));
  await conn.nc.flush();
  await new Promise((r) => setImmediate(r));
  return conn.statuses.filter(
    (s) => s.permissionContext?.operation === 'publish' && s.permissionContext.subject === subject,
  );
}

/** Opens the revocation bucket exactly as RevocationStore does (create options included). */
function openRevocations(conn: Conn): Promise<KV> {
  return conn.nc.jetstream().views.kv(REVOCATION_BUCKET, { history: 1, ttl: 960_000 });
}

/** Watches the bucket until its current content has been read; resolves with the keys seen so far. */
async function watchRevocations(kv: KV): Promise<{ keys: Set<string>; stop(): void }> {
  const keys = new Set<string>();
  let initialized!: () => void;
  const ready = new Promise<void>((r) => (initialized = r));
  const watch = await kv.watch({ initializedFn: () => initialized() });
  void (async () => {
    for await (const entry of watch) {
      keys.add(entry.key);
    }
  })();
  await ready;
  return { keys, stop: () => watch.stop() };
}

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('NATS transport security: TLS, a user per service, per-service permissions', () => {
  let server: SecureNatsServerHandle;
  const open: Conn[] = [];

  /** Connects with the service's own environment, validated by AuthEnv, through natsConnectionOptions. */
  const as = async (service: string): Promise<Conn> => {
    const env = validateConfig(AuthEnv, server.env(service));
    const nc = await connect({
      ...natsConnectionOptions(service, env),
      name: `${service}-spec`,
      reconnect: false,
      timeout: 3000,
    });
    const conn: Conn = { nc, statuses: [] };
    void (async () => {
      for await (const s of nc.status()) {
        conn.statuses.push(s);
      }
    })();
    open.push(conn);
    return conn;
  };

  beforeAll(async () => {
    server = await startSecureNatsServer({ permissions: NATS_PERMISSIONS });
    // auth owns the revocation bucket: it creates it (as at start-up) before the others bind to it.
    const auth = await as('auth');
    await (await openRevocations(auth)).put('sid.before-the-others', '{"until":1}');
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.nc.close()));
  });

  afterAll(async () => {
    await server?.stop();
  });

  describe('connections', () => {
    it('should refuse a plain-text connection, even with valid credentials', async () => {
      const answer = await new Promise<string>((resolve, reject) => {
        let received = '';
        const socket = createConnection({ host: '127.0.0.1', port: server.port });
        socket.on('data', (d: Buffer) => {
          received += d.toString();
          if (received.includes('INFO ') && !socket.writableEnded) {
            const connect = { user: 'orders', pass: server.passwords['orders'], verbose: false };
            socket.end(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
          }
        });
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
        setTimeout(() => socket.destroy(), 5000).unref();
      });

      // The server offers nothing but its INFO (TLS required) and drops what is not a TLS handshake:
      // no +OK, no PONG, the connection is closed.
      const info = /^INFO (.*)\r\n$/.exec(answer);
      expect(info).not.toBeNull();
      expect(JSON.parse(info?.[1] ?? '{}')).toMatchObject({ tls_required: true, tls_verify: true });
      await waitFor(() => server.logs().includes('TLS handshake error'));
    });

    it('should refuse a TLS connection without a client certificate', async () => {
      const error = await connect({
        servers: server.url,
        user: 'orders',
        pass: server.passwords['orders'],
        tls: { caFile: server.certs.caFile },
        reconnect: false,
        timeout: 3000,
      }).then(
        async (nc) => {
          await nc.close();
          return undefined;
        },
        (e: unknown) => e,
      );

      // The server's TLS alert: "bad certificate" (Go < 1.21) or "certificate required" (TLS 1.3),
      // or, when the server closes the socket before the alert is read, a reset.
      expect((error as { code?: string }).code).toMatch(
        /^(ERR_SSL_.*(BAD_CERTIFICATE|CERTIFICATE_REQUIRED)|ECONNRESET)$/,
      );
      await waitFor(() => server.logs().includes('TLS handshake error'));
    });

    it.each([
      ['a wrong password', { user: 'orders', pass: 'nats-not-the-password-of-orders' }],
      ['no user', {}],
    ])('should refuse %s', async (_case, credentials) => {
      const tls = server.env('orders');
      const error = await connect({
        servers: server.url,
        ...credentials,
        tls: {
          caFile: tls['NATS_TLS_CA_FILE'],
          certFile: tls['NATS_TLS_CERT_FILE'],
          keyFile: tls['NATS_TLS_KEY_FILE'],
        },
        reconnect: false,
        timeout: 3000,
      }).catch((e: unknown) => e);

      expect((error as NatsError).code).toBe('AUTHORIZATION_VIOLATION');
    });

    it('should connect every service with TLS and its own user', async () => {
      for (const service of Object.keys(NATS_PERMISSIONS)) {
        const { nc } = await as(service);
        expect(nc.info?.tls_required).toBe(true);
        await nc.flush();
      }
    });
  });

  describe('what a service needs, it may do', () => {
    it('should let profile answer profile.get in its queue group, and orders and the gateway ask it', async () => {
      const profile = await as('profile');
      profile.nc.subscribe(Subjects.profile.get, {
        queue: queueGroup('profile'),
        callback: (_err, msg) => msg.respond(sc.encode(`profile of ${sc.decode(msg.data)}`)),
      });
      await profile.nc.flush();

      for (const caller of ['orders', 'gateway']) {
        const { nc } = await as(caller);
        const answer = await nc.request(Subjects.profile.get, sc.encode(caller), { timeout: 2000 });
        expect(sc.decode(answer.data)).toBe(`profile of ${caller}`);
      }
      expect(profile.statuses.filter((s) => s.type === NatsEvents.Error)).toEqual([]);
    });

    it('should let the gateway ask auth and orders, which answer in their queue groups', async () => {
      const auth = await as('auth');
      const orders = await as('orders');
      for (const [conn, subject, queue] of [
        [auth, Subjects.auth.login, queueGroup('auth')],
        [orders, Subjects.orders.create, queueGroup('orders')],
      ] as const) {
        expect(await subscribeOutcome(conn, subject, queue)).toBeUndefined();
        conn.nc.subscribe(subject, {
          queue,
          callback: (_err, msg) => msg.respond(sc.encode(`answered ${subject}`)),
        });
        await conn.nc.flush();
      }
      const gateway = await as('gateway');

      for (const subject of [Subjects.auth.login, Subjects.orders.create]) {
        const answer = await gateway.nc.request(subject, sc.encode('{}'), { timeout: 2000 });
        expect(sc.decode(answer.data)).toBe(`answered ${subject}`);
      }
    });

    it('should let every service load and watch the revocation bucket, and see what auth writes', async () => {
      const auth = await as('auth');
      const watchers = await Promise.all(
        ['profile', 'orders', 'gateway'].map(async (service) => {
          const conn = await as(service);
          // RevocationStore also hears each revocation as auth publishes it
          const published: string[] = [];
          conn.nc.subscribe(REVOCATION_SUBJECTS, {
            callback: (err, msg) => published.push(err ? String(err) : msg.subject),
          });
          await conn.nc.flush();
          return { conn, published, watch: await watchRevocations(await openRevocations(conn)) };
        }),
      );
      for (const { watch } of watchers) {
        expect(watch.keys.has('sid.before-the-others')).toBe(true);
      }

      await (await openRevocations(auth)).put('jti.revoked-by-auth', '{"until":1}');

      for (const { conn, published, watch } of watchers) {
        await waitFor(() => watch.keys.has('jti.revoked-by-auth'));
        await waitFor(() => published.length > 0);
        expect(published).toEqual([`$KV.${REVOCATION_BUCKET}.jti.revoked-by-auth`]);
        watch.stop();
        expect(conn.statuses.filter((s) => s.type === NatsEvents.Error)).toEqual([]);
      }
    });

    it("should deliver auth's events: user.registered to profile's queue group, keys.rotated to everyone", async () => {
      const auth = await as('auth');
      const received: string[] = [];
      const listen = async (service: string, subject: string, queue?: string) => {
        const { nc } = await as(service);
        nc.subscribe(subject, { queue, callback: () => received.push(`${service} ${subject}`) });
        await nc.flush();
      };
      await listen('profile', Events.userRegistered, queueGroup('profile'));
      for (const service of ['auth', 'profile', 'orders', 'gateway']) {
        await listen(service, Events.keysRotated);
      }

      for (const event of [Events.userRegistered, Events.revoked, Events.keysRotated]) {
        expect(await publishOutcome(auth, event)).toEqual([]);
      }

      await waitFor(() => received.length === 5);
      expect(received.sort()).toEqual(
        [
          `profile ${Events.userRegistered}`,
          `auth ${Events.keysRotated}`,
          `profile ${Events.keysRotated}`,
          `orders ${Events.keysRotated}`,
          `gateway ${Events.keysRotated}`,
        ].sort(),
      );
    });
  });

  describe('what belongs to another service, it may not do', () => {
    it('should not let orders answer on auth subjects, in auth’s queue group or any other way', async () => {
      const orders = await as('orders');

      const inQueue = await subscribeOutcome(orders, Subjects.auth.login, queueGroup('auth'));
      const plain = await subscribeOutcome(orders, 'auth.>');

      expect(inQueue?.code).toBe('PERMISSIONS_VIOLATION');
      expect(inQueue?.message).toBe(
        `'Permissions Violation for Subscription to "auth.login" using queue "baton.auth"'`,
      );
      expect(plain?.message).toBe(`'Permissions Violation for Subscription to "auth.>"'`);
    });

    it('should not let a service answer its own subjects outside its queue group', async () => {
      const profile = await as('profile');

      expect((await subscribeOutcome(profile, Subjects.profile.get))?.code).toBe(
        'PERMISSIONS_VIOLATION',
      );
      expect((await subscribeOutcome(profile, Subjects.profile.get, 'someone-else'))?.message).toBe(
        `'Permissions Violation for Subscription to "profile.get" using queue "someone-else"'`,
      );
    });

    it.each([
      ['orders', Events.revoked],
      ['orders', Events.keysRotated],
      ['orders', Events.userRegistered],
      ['profile', Events.keysRotated],
      ['profile', Events.revoked],
      ['gateway', Events.keysRotated],
    ])('should refuse %s publishing %s, and nobody receives it', async (service, event) => {
      const listeners = await Promise.all([as('auth'), as('profile')]);
      let delivered = 0;
      listeners[0].nc.subscribe(Events.keysRotated, { callback: () => delivered++ });
      listeners[1].nc.subscribe(Events.userRegistered, {
        queue: queueGroup('profile'),
        callback: () => delivered++,
      });
      await Promise.all(listeners.map((l) => l.nc.flush()));
      const publisher = await as(service);

      const refused = await publishOutcome(publisher, event);
      await Promise.all(listeners.map((l) => l.nc.flush()));

      expect(refused).toEqual([
        expect.objectContaining({
          type: NatsEvents.Error,
          data: 'PERMISSIONS_VIOLATION',
          permissionContext: { operation: 'publish', subject: event, queue: undefined },
        }),
      ]);
      expect(delivered).toBe(0);
    });

    it('should let orders ask profile.get but not profile.update', async () => {
      const orders = await as('orders');

      const error = await orders.nc
        .request(Subjects.profile.update, sc.encode('{}'), { timeout: 2000 })
        .catch((e: unknown) => e as NatsError);

      expect((error as NatsError).code).toBe('PERMISSIONS_VIOLATION');
      expect((error as NatsError).message).toBe(
        `'Permissions Violation for Publish to "profile.update"'`,
      );
    });

    it('should not let the gateway answer anything or ask for a service token', async () => {
      const gateway = await as('gateway');

      expect(
        (await subscribeOutcome(gateway, Subjects.orders.create, queueGroup('orders')))?.code,
      ).toBe('PERMISSIONS_VIOLATION');
      expect(await publishOutcome(gateway, Subjects.auth.serviceToken)).toHaveLength(1);
    });

    it.each(['profile', 'orders', 'gateway'])(
      'should not let %s write, create or delete the revocation bucket',
      async (service) => {
        const auth = await as('auth');
        const watch = await watchRevocations(await openRevocations(auth));
        const conn = await as(service);
        const kv = await openRevocations(conn);

        const put = await kv.put('sid.forged', '{"until":9999999999}').catch((e: unknown) => e);
        const jsm = await conn.nc.jetstreamManager();
        const removed = await jsm.streams
          .delete(`KV_${REVOCATION_BUCKET}`)
          .catch((e: unknown) => e);
        const created = await jsm.streams
          .add({ name: 'KV_forged', subjects: ['$KV.forged.>'] })
          .catch((e: unknown) => e);
        await (await openRevocations(auth)).put('jti.marker', '{"until":1}');
        await waitFor(() => watch.keys.has('jti.marker'));
        watch.stop();

        expect((put as NatsError).message).toBe(
          `'Permissions Violation for Publish to "$KV.${REVOCATION_BUCKET}.sid.forged"'`,
        );
        expect((removed as NatsError).code).toBe('PERMISSIONS_VIOLATION');
        expect((created as NatsError).code).toBe('PERMISSIONS_VIOLATION');
        expect(watch.keys.has('sid.forged')).toBe(false);
      },
    );

    it("should keep each service's replies private: no one may subscribe to another's inbox", async () => {
      const orders = await as('orders');

      for (const subject of ['_INBOX.>', '_INBOX.gateway.>', '>']) {
        expect((await subscribeOutcome(orders, subject))?.code).toBe('PERMISSIONS_VIOLATION');
      }
      expect(await subscribeOutcome(orders, '_INBOX.orders.anything')).toBeUndefined();
    });
  });

  describe('configuration', () => {
    it('should have deploy/nats/nats-server.conf as `npm run nats:config` generates it', () => {
      const committed = readFileSync(join(workspaceRoot(), 'deploy/nats/nats-server.conf'), 'utf8');

      expect(committed).toBe(deployNatsServerConfig(generatedServices()));
    });

    describe('AuthEnv', () => {
      let dir: string;

      beforeAll(() => {
        dir = mkdtempSync(join(tmpdir(), 'baton-auth-env-'));
        writeFileSync(join(dir, 'ca.pem'), 'not checked beyond being readable');
      });

      afterAll(() => rmSync(dir, { recursive: true, force: true }));

      it.each([
        [
          { NATS_TLS_CA_FILE: '/no/such/ca.pem' },
          'NATS_TLS_CA_FILE must name a file this process can read (/no/such/ca.pem: ENOENT)',
        ],
        [{ NATS_TLS_CA_FILE: '<dir>' }, 'NATS_TLS_CA_FILE must name a file (<dir> is not one)'],
        [
          { NATS_TLS_CERT_FILE: '<dir>/ca.pem' },
          'NATS_TLS_KEY_FILE must be set when NATS_TLS_CERT_FILE is',
        ],
        [
          { NATS_TLS_KEY_FILE: '<dir>/ca.pem' },
          'NATS_TLS_CERT_FILE must be set when NATS_TLS_KEY_FILE is',
        ],
        [{ NATS_USER: 'orders' }, 'NATS_PASSWORD must be set when NATS_USER is'],
        [{ NATS_PASSWORD: 'nats0123456789abcdef' }, 'NATS_USER must be set when NATS_PASSWORD is'],
        [
          { NATS_USER: 'orders', NATS_PASSWORD: '0123456789abcdef0123' },
          'NATS_PASSWORD must be 16 or more characters: a letter, then letters, digits, - or _',
        ],
      ])('should refuse %j, naming the variable', (vars, message) => {
        const env = Object.fromEntries(
          Object.entries(vars).map(([k, v]) => [k, v.replace('<dir>', dir)]),
        );

        expect(() => validateConfig(AuthEnv, env)).toThrow(message.replace('<dir>', dir));
      });

      it('should never echo the password it refuses', () => {
        const password = 'not a valid nats password';

        expect(() => validateConfig(AuthEnv, { NATS_USER: 'o', NATS_PASSWORD: password })).toThrow(
          expect.objectContaining({ message: expect.not.stringContaining(password) }),
        );
      });

      it('should accept the TLS files and credentials of a service, and empty values as unset', () => {
        expect(() => validateConfig(AuthEnv, server.env('orders'))).not.toThrow();
        expect(() =>
          validateConfig(AuthEnv, { NATS_TLS_CA_FILE: '', NATS_USER: '', NATS_PASSWORD: '' }),
        ).not.toThrow();
      });
    });

    describe(natsConnectionOptions.name, () => {
      const reconnecting = {
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        timeout: 2000,
        noAsyncTraces: true,
      };

      it('should give TLS files, the user and a private inbox prefix when they are set', () => {
        expect(
          natsConnectionOptions('orders', {
            NATS_URL: 'nats://a:4222, nats://b:4222',
            NATS_USER: 'orders',
            NATS_PASSWORD: 'nats-secret-0123456789',
            NATS_TLS_CA_FILE: '/tls/ca.pem',
            NATS_TLS_CERT_FILE: '/tls/client.pem',
            NATS_TLS_KEY_FILE: '/tls/client-key.pem',
          }),
        ).toEqual({
          servers: ['nats://a:4222', 'nats://b:4222'],
          user: 'orders',
          pass: 'nats-secret-0123456789',
          tls: {
            caFile: '/tls/ca.pem',
            certFile: '/tls/client.pem',
            keyFile: '/tls/client-key.pem',
          },
          inboxPrefix: '_INBOX.orders',
          ...reconnecting,
        });
      });

      it('should give neither TLS nor credentials when none are set', () => {
        expect(natsConnectionOptions('gateway', { NATS_TLS_CA_FILE: '' })).toEqual({
          servers: ['nats://127.0.0.1:4222'],
          inboxPrefix: '_INBOX.gateway',
          ...reconnecting,
        });
      });
    });

    describe(natsSecurityWarnings.name, () => {
      it('should warn about plain text and missing credentials outside development and tests', () => {
        expect(natsSecurityWarnings({}, 'production')).toEqual([
          expect.stringContaining('NATS connection is not encrypted'),
          expect.stringContaining('NATS connection has no credentials'),
        ]);
        // NODE_ENV unset counts as production
        expect(natsSecurityWarnings({}, '')).toHaveLength(2);
      });

      it('should say nothing when TLS and a user are set, or in development and tests', () => {
        const secured = { NATS_TLS_CA_FILE: '/ca.pem', NATS_USER: 'orders' };

        expect(natsSecurityWarnings(secured, 'production')).toEqual([]);
        expect(
          natsSecurityWarnings({ NATS_URL: 'tls://nats:4222', NATS_USER: 'a' }, 'production'),
        ).toEqual([]);
        expect(natsSecurityWarnings({}, 'development')).toEqual([]);
        expect(natsSecurityWarnings({}, 'test')).toEqual([]);
      });
    });
  });
});
