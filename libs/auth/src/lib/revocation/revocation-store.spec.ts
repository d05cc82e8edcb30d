import { Logger } from '@nestjs/common';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import type { KV, NatsConnection } from 'nats';
import { REVOCATION_BUCKET } from '@baton/contracts';
import { freePort, natsServerBinary, startNatsServer } from '@baton/testing';
import { ALGORITHM_ALLOWLIST } from '../auth.constants';
import type { BatonAuthOptions } from '../baton-auth.options';
import { RevocationStore } from './revocation-store';

const options: BatonAuthOptions = {
  service: 'test',
  natsServers: [],
  issuer: 'baton-auth',
  audience: 'baton',
  algorithms: ALGORITHM_ALLOWLIST,
  requestTimeoutMs: 2000,
  accessTokenTtl: 900,
  jwksRefetchIntervalMs: 10_000,
  verifiedTokenCacheSize: 0,
};

const later = (): number => Math.floor(Date.now() / 1000) + 3600;

/**
 * A nats-server whose JetStream store survives a restart (the shared harness deletes it on stop),
 * so a test can take NATS away and bring it back with or without its data.
 */
class RestartableNats {
  readonly url: string;
  private child?: ChildProcess;
  private readonly dirs: string[] = [];

  private constructor(readonly port: number) {
    this.url = `nats://127.0.0.1:${port}`;
  }

  static async start(): Promise<RestartableNats> {
    const server = new RestartableNats(await freePort());
    await server.up(server.newStore());
    return server;
  }

  newStore(): string {
    const dir = mkdtempSync(join(tmpdir(), 'baton-revocations-'));
    this.dirs.push(dir);
    return dir;
  }

  get store(): string {
    return this.dirs[this.dirs.length - 1];
  }

  async up(storeDir: string): Promise<void> {
    this.child = spawn(
      natsServerBinary(),
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', storeDir],
      {
        stdio: 'ignore',
      },
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await (await connect({ servers: this.url, reconnect: false, timeout: 500 })).close();
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(`nats-server on port ${this.port} did not come up: ${String(err)}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }

  async down(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }

  async destroy(): Promise<void> {
    await this.down();
    for (const dir of this.dirs) {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

async function eventually(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`${what}: not the case within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Retries an operation of the writer that may hit JetStream while it is still recovering. */
async function retrying<T>(operation: () => Promise<T>, timeoutMs = 4000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await operation();
    } catch (err) {
      if (Date.now() > deadline) {
        throw err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe(RevocationStore.name, () => {
  let nats: RestartableNats;
  let auth: NatsConnection; // another party writing to the bucket, as the auth service does
  let bucket: KV;

  beforeAll(async () => {
    nats = await RestartableNats.start();
    auth = await connect({ servers: nats.url, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    bucket = await auth
      .jetstream({ timeout: 500 })
      .views.kv(REVOCATION_BUCKET, { history: 1, ttl: 960_000 });
  });

  afterAll(async () => {
    await auth?.close();
    await nats?.destroy();
  });

  describe('on a steady connection', () => {
    let nc: NatsConnection;
    let sut: RevocationStore;

    beforeAll(async () => {
      await bucket.put('jti.revoked-before-start', JSON.stringify({ until: later() }));
      await bucket.put('sid.session-revoked-before-start', JSON.stringify({ until: later() }));
      nc = await connect({ servers: nats.url });
      sut = new RevocationStore(options);
    });

    afterAll(async () => {
      sut.onApplicationShutdown();
      await nc.close();
    });

    it('should not count as current before it has read the bucket', () => {
      expect(sut.isCurrent).toBe(false);
    });

    it('should refuse to record a revocation before it is started', async () => {
      await expect(sut.revoke('jti', 'x', later())).rejects.toThrow('revocation store not started');
    });

    it('should know every existing revocation as soon as start resolves', async () => {
      await sut.start(nc);

      expect(sut.isCurrent).toBe(true);
      expect(sut.isRevoked('revoked-before-start', 'some-session')).toBe(true);
      expect(sut.isRevoked('some-jti', 'session-revoked-before-start')).toBe(true);
      expect(sut.isRevoked('some-jti', 'some-session')).toBe(false);
    });

    it('should not confuse a jti with a sid of the same value', () => {
      expect(sut.isRevoked('some-jti', 'revoked-before-start')).toBe(false);
      expect(sut.isRevoked('session-revoked-before-start', 'some-session')).toBe(false);
    });

    it('should write a revocation to the bucket and honour it at once', async () => {
      const seq = await sut.revoke('sid', 'logged-out', 1_900_000_000);

      expect(sut.isRevoked('any', 'logged-out')).toBe(true);
      const entry = await bucket.get('sid.logged-out');
      expect(entry?.revision).toBe(seq);
      expect(entry?.json()).toEqual({ until: 1_900_000_000 });
    });

    it('should learn a revocation another service wrote, through the watch', async () => {
      const seq = await bucket.put('jti.revoked-elsewhere', JSON.stringify({ until: later() }));

      await expect(sut.waitForSequence(seq)).resolves.toBe(true);
      expect(sut.isRevoked('revoked-elsewhere', 'any')).toBe(true);
    });

    it('should still revoke on an entry it cannot read', async () => {
      const seq = await bucket.put('sid.garbled', 'not json');

      await sut.waitForSequence(seq);
      expect(sut.isRevoked('any', 'garbled')).toBe(true);
    });

    it('should forget a revocation deleted from the bucket', async () => {
      const put = await bucket.put('jti.reinstated', JSON.stringify({ until: later() }));
      await sut.waitForSequence(put);
      expect(sut.isRevoked('reinstated', 'any')).toBe(true);

      await bucket.delete('jti.reinstated');

      await eventually(
        () => !sut.isRevoked('reinstated', 'any'),
        'the deleted revocation is forgotten',
      );
    });

    it('should report a sequence it has not seen within the timeout as not reached', async () => {
      await expect(sut.waitForSequence(1_000_000, 50)).resolves.toBe(false);
    });

    it('should stop counting as current once the application shuts down', () => {
      const other = new RevocationStore(options);
      return other.start(nc).then(() => {
        expect(other.isCurrent).toBe(true);
        other.onApplicationShutdown();
        expect(other.isCurrent).toBe(false);
      });
    });
  });

  // The watch's consumer lives on one JetStream node; losing it (its node dies) leaves the watch
  // quiet until nats.js misses two 5 s heartbeats. Deleting the consumer does the same here.
  describe('while its watch has lost its consumer', () => {
    let nc: NatsConnection;
    let sut: RevocationStore;

    beforeAll(async () => {
      nc = await connect({ servers: nats.url });
      sut = new RevocationStore(options);
      await sut.start(nc);
      await sut.revoke('sid', 'revoked-before-the-consumer-was-lost', later());
      const jsm = await nc.jetstreamManager();
      const stream = `KV_${REVOCATION_BUCKET}`;
      for await (const consumer of jsm.consumers.list(stream)) {
        await jsm.consumers.delete(stream, consumer.name);
      }
    });

    afterAll(async () => {
      sut.onApplicationShutdown();
      await nc.close();
    });

    it('should still learn a revocation another service writes', async () => {
      await bucket.put('sid.revoked-while-the-watch-is-quiet', JSON.stringify({ until: later() }));

      // well within the 10 s the watch takes to notice
      await eventually(
        () => sut.isRevoked('any', 'revoked-while-the-watch-is-quiet'),
        'the revocation reached the store',
        2000,
      );
      expect(sut.isCurrent).toBe(true);
    });

    it('should not forget a revocation on a delete it has only heard published', async () => {
      await bucket.delete('sid.revoked-before-the-consumer-was-lost');
      await auth.flush();
      await new Promise((r) => setTimeout(r, 200));

      // a delete counts once the watch has it from the bucket
      expect(sut.isRevoked('any', 'revoked-before-the-consumer-was-lost')).toBe(true);
    });
  });

  // The schedule of attempts alone: each attempt is replaced by a stub that fails as told.
  describe('replacing a watch that failed', () => {
    type Internals = {
      startWatch(apiTimeoutMs: number): Promise<void>;
      restartWatch(): Promise<void>;
    };
    let sut: RevocationStore;
    let internals: Internals;
    let warned: jest.SpyInstance;
    /** When each attempt started, in ms after the restart began (fake time). */
    let startedAt: number[];

    /** Makes attempts fail, each after `failAfterMs[i]`, until they run out; the next one succeeds. */
    const attempts = (failAfterMs: number[]) => {
      const began = Date.now();
      startedAt = [];
      return jest.spyOn(internals, 'startWatch').mockImplementation(() => {
        const failAfter = failAfterMs[startedAt.length];
        startedAt.push(Date.now() - began);
        if (failAfter === undefined) {
          return Promise.resolve();
        }
        return new Promise((_, reject) =>
          setTimeout(() => reject(new Error('TIMEOUT')), failAfter),
        );
      });
    };

    beforeEach(() => {
      jest.useFakeTimers();
      warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      sut = new RevocationStore(options);
      internals = sut as unknown as Internals;
    });

    afterEach(() => {
      sut.onApplicationShutdown();
      warned.mockRestore();
      jest.useRealTimers();
    });

    it('should try again at once after an attempt that timed out', async () => {
      const startWatch = attempts([1000, 1000, 1000]);

      const restarted = internals.restartWatch();
      await jest.advanceTimersByTimeAsync(3000);

      // each attempt waited out its timeout; none then paused on top of it
      expect(startedAt).toEqual([0, 1000, 2000, 3000]);
      await restarted;
      expect(startWatch).toHaveBeenCalledTimes(4);
    });

    it('should pause between attempts refused at once, doubling the pause up to a second', async () => {
      attempts([0, 0, 0, 0, 0]);

      const restarted = internals.restartWatch();
      await jest.advanceTimersByTimeAsync(3750);

      expect(startedAt).toEqual([0, 250, 750, 1750, 2750, 3750]);
      await restarted;
    });

    it('should give an attempt a shorter API timeout than the start does', async () => {
      const startWatch = attempts([]);

      await internals.restartWatch();

      const [timeoutMs] = startWatch.mock.calls[0];
      expect(timeoutMs).toBeGreaterThan(0);
      expect(timeoutMs).toBeLessThan(2000);
    });
  });

  // A fresh server (no bucket yet), so that the store is the one that creates it.
  describe('creating the bucket', () => {
    it('should give its stream one replica by default', async () => {
      const fresh = await startNatsServer();
      const nc = await connect({ servers: fresh.url });
      const sut = new RevocationStore(options);
      try {
        await sut.start(nc);

        const info = await (await nc.jetstreamManager()).streams.info(`KV_${REVOCATION_BUCKET}`);
        expect(info.config.num_replicas).toBe(1);
      } finally {
        sut.onApplicationShutdown();
        await nc.close();
        await fresh.stop();
      }
    });

    it('should ask for the configured number of replicas', async () => {
      const fresh = await startNatsServer();
      const nc = await connect({ servers: fresh.url });
      const sut = new RevocationStore({ ...options, revocationReplicas: 3 });
      try {
        // A lone server cannot hold three replicas; that it says so shows the setting reached it.
        await expect(sut.start(nc)).rejects.toThrow(/replicas/);
      } finally {
        sut.onApplicationShutdown();
        await nc.close();
        await fresh.stop();
      }
    });
  });

  // Takes NATS away and back; runs after the steady tests.
  describe('across a NATS outage', () => {
    let nc: NatsConnection;
    let sut: RevocationStore;
    let warned: jest.SpyInstance;

    beforeAll(async () => {
      warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      nc = await connect({ servers: nats.url, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
      sut = new RevocationStore(options);
      await sut.start(nc);
      await sut.revoke('jti', 'revoked-before-the-outage', later());
    });

    afterAll(async () => {
      sut.onApplicationShutdown();
      await nc.close();
      warned.mockRestore();
    });

    it('should stop counting as current as soon as the connection drops', async () => {
      await nats.down();

      await eventually(() => !sut.isCurrent, 'isCurrent turned false after the disconnect', 2000);
    });

    it('should catch up and count as current again when NATS comes back with its data', async () => {
      await nats.up(nats.store);

      await eventually(() => sut.isCurrent, 'isCurrent turned true after the reconnect');
      expect(sut.isRevoked('revoked-before-the-outage', 'any')).toBe(true);

      const seq = await retrying(() =>
        bucket.put('sid.revoked-after-the-outage', JSON.stringify({ until: later() })),
      );
      await expect(sut.waitForSequence(seq)).resolves.toBe(true);
      expect(sut.isRevoked('any', 'revoked-after-the-outage')).toBe(true);
    });

    // NATS comes back with an empty JetStream (the bucket is gone): the store must re-create it,
    // catch up and serve again, not stay stale until the next reconnect.
    it('should catch up again once the bucket is back after a failed watch restart', async () => {
      await nats.down();
      await eventually(() => !sut.isCurrent, 'isCurrent turned false after the disconnect', 2000);
      await nats.up(nats.newStore()); // NATS back, JetStream empty

      // auth re-creates the bucket and writes to it
      const kv = await retrying(() =>
        auth.jetstream({ timeout: 500 }).views.kv(REVOCATION_BUCKET, { history: 1, ttl: 960_000 }),
      );
      await retrying(() =>
        kv.put('sid.revoked-after-the-bucket-came-back', JSON.stringify({ until: later() })),
      );

      await eventually(() => sut.isCurrent, 'isCurrent turned true once the bucket was back', 2500);
      await eventually(
        () => sut.isRevoked('any', 'revoked-after-the-bucket-came-back'),
        'the revocation written after the outage reached the store',
        2500,
      );
    });
  });
});
