import type { DataSource } from 'typeorm';
import { openDataSource, resolveStore } from '@baton/persistence';
import { createTestDatabase } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';
import { LoginThrottleEntity } from '../entities';
import { LoginThrottle1796416875909 } from '../migrations/1796416875909-login-throttle';
import { LoginThrottle } from './login-throttle.service';
import { RegistrationThrottle } from './registration-throttle.service';
import { ThrottleCounts } from './throttle-counts';

/*
 * The throttle on the real store (SQLite, or PostgreSQL when DATABASE_URL is set), with two
 * instances on two connections of one store standing for two auth replicas. The clock is
 * Date.now, set by each test; the store sees only the times the throttle binds.
 */

const MINUTE = 60_000;

describe(LoginThrottle.name, () => {
  let db: TestDatabase;
  const opened: DataSource[] = [];
  let counts: ThrottleCounts;
  let sut: LoginThrottle;
  let replica: LoginThrottle;
  let now: number;
  let run = 0;
  let email: string;

  const open = async (): Promise<ThrottleCounts> => {
    const dataSource = await openDataSource({
      store: resolveStore('auth', db.env),
      entities: [LoginThrottleEntity],
      migrations: [LoginThrottle1796416875909],
    });
    opened.push(dataSource);
    return new ThrottleCounts(dataSource.getRepository(LoginThrottleEntity));
  };
  const rows = async () =>
    opened[0].getRepository(LoginThrottleEntity).find({ order: { failures: 'ASC' } });
  const advance = (ms: number) => {
    now += ms;
  };
  const failTimes = async (n: number, throttle = sut, address?: string) => {
    for (let i = 0; i < n; i++) {
      await throttle.failed(email, address);
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    counts = await open();
    sut = new LoginThrottle(counts);
    replica = new LoginThrottle(await open());
  });

  beforeEach(async () => {
    now = Date.parse('2026-12-04T12:00:00.000Z');
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    run += 1;
    email = `user-${run}@example.test`;
    await opened[0].getRepository(LoginThrottleEntity).clear();
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    for (const dataSource of opened) {
      await dataSource.destroy();
    }
    await db?.drop();
  });

  it('should let five failures of an account through, then block it for 2, 4, 8, 16, 32 and at most 60 s', async () => {
    await failTimes(5);
    expect(await sut.retryAfter(email, undefined)).toBe(0);

    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      await sut.failed(email, undefined);
      waits.push(await sut.retryAfter(email, undefined));
    }

    expect(waits).toEqual([2, 4, 8, 16, 32, 60, 60]);
    expect(await sut.retryAfter('someone-else@example.test', undefined)).toBe(0);
  });

  it('should let an account try again once its block is over', async () => {
    await failTimes(6);
    expect(await sut.retryAfter(email, undefined)).toBe(2);

    advance(1_500);
    expect(await sut.retryAfter(email, undefined)).toBe(1);
    advance(500);
    expect(await sut.retryAfter(email, undefined)).toBe(0);
  });

  it('should start a new window on the first failure 15 minutes after the last window began', async () => {
    await failTimes(6);
    advance(15 * MINUTE + 1);

    await failTimes(5);
    expect(await sut.retryAfter(email, undefined)).toBe(0);
    await failTimes(1);
    expect(await sut.retryAfter(email, undefined)).toBe(2);
  });

  it('should keep counting within a window that began less than 15 minutes ago', async () => {
    await failTimes(5);
    advance(15 * MINUTE - 1);

    await failTimes(1);

    expect(await sut.retryAfter(email, undefined)).toBe(2);
  });

  it("should clear an account's count when it logs in, but not its address's", async () => {
    const address = '203.0.113.7';
    await failTimes(5, sut, address);

    await sut.succeeded(email);
    await failTimes(5, sut, address);

    expect(await sut.retryAfter(email, address)).toBe(0);
    expect((await rows()).map((r) => r.failures)).toEqual([5, 10]);
  });

  it('should block an address for 5 minutes after more than 20 failures on any accounts', async () => {
    const address = '198.51.100.23';
    for (let i = 0; i < 21; i++) {
      await sut.failed(`sprayed-${run}-${i}@example.test`, address);
    }

    expect(await sut.retryAfter('fresh@example.test', address)).toBe(300);
    expect(await sut.retryAfter('fresh@example.test', '198.51.100.24')).toBe(0);
    expect(await sut.retryAfter('fresh@example.test', undefined)).toBe(0);
  });

  it('should keep a block that outlasts its window when a failure starts the next window', async () => {
    const address = '198.51.100.99';
    await sut.failed(`first-${run}@example.test`, address);
    advance(15 * MINUTE - 1_000);
    for (let i = 0; i < 20; i++) {
      await sut.failed(`sprayed-${run}-${i}@example.test`, address);
    }
    expect(await sut.retryAfter('fresh@example.test', address)).toBe(300);

    // a login that passed the check while another was being counted, failing in the next window
    advance(2_000);
    await sut.failed(`late-${run}@example.test`, address);

    expect(await sut.retryAfter('fresh@example.test', address)).toBe(298);
  });

  it('should count the failures of every address of one IPv6 /64 together', async () => {
    for (let i = 0; i < 21; i++) {
      await sut.failed(`sprayed-${run}-${i}@example.test`, `2001:db8:${run}:7::${i.toString(16)}`);
    }

    expect(await sut.retryAfter('fresh@example.test', `2001:db8:${run}:7:ffff::1`)).toBe(300);
    expect(await sut.retryAfter('fresh@example.test', `2001:db8:${run}:8::1`)).toBe(0);
  });

  it('should share the counts between replicas', async () => {
    for (let i = 0; i < 3; i++) {
      await sut.failed(email, undefined);
      await replica.failed(email, undefined);
    }

    expect(await sut.retryAfter(email, undefined)).toBe(2);
    expect(await replica.retryAfter(email, undefined)).toBe(2);
  });

  it('should keep the counts when auth restarts', async () => {
    await failTimes(7);

    const restarted = new LoginThrottle(await open());

    expect(await restarted.retryAfter(email, undefined)).toBe(4);
  });

  it('should lose no failure when replicas count the same account at once', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? sut : replica).failed(email, undefined)),
    );

    expect((await rows()).map((r) => r.failures)).toEqual([40]);
  });

  it('should keep neither the email nor the address in the store, whatever their length', async () => {
    const address = `2001:db8::${'f'.repeat(10_000)}`;
    await sut.failed(email, address);

    const stored = await rows();

    expect(stored).toHaveLength(2);
    expect(stored.map((r) => r.keyHash)).toEqual([
      expect.stringMatching(/^[0-9a-f]{64}$/),
      expect.stringMatching(/^[0-9a-f]{64}$/),
    ]);
    expect(JSON.stringify(stored)).not.toMatch(/example\.test|2001:db8/);
  });

  it('should delete the counts whose window is over and which block nothing, and only those', async () => {
    await sut.failed(`old-${run}@example.test`, undefined);
    advance(10 * MINUTE);
    await failTimes(6);
    advance(5 * MINUTE + 1);

    await counts.sweep();

    expect((await rows()).map((r) => r.failures)).toEqual([6]);
    expect(await sut.retryAfter(`old-${run}@example.test`, undefined)).toBe(0);
    advance(10 * MINUTE);
    await counts.sweep();
    expect(await rows()).toEqual([]);
  });

  describe(RegistrationThrottle.name, () => {
    let registrations: RegistrationThrottle;
    let address: string;
    const attempts = async (n: number, throttle = registrations) => {
      const waits: number[] = [];
      for (let i = 0; i < n; i++) {
        waits.push(await throttle.attempt(address));
      }
      return waits;
    };

    beforeEach(() => {
      registrations = new RegistrationThrottle(counts);
      address = `192.0.2.${run}`;
    });

    it('should let ten registrations from an address through, then refuse it for 15 minutes', async () => {
      expect(await attempts(10)).toEqual(Array(10).fill(0));

      expect(await attempts(1)).toEqual([900]);
      advance(60_000);
      expect(await attempts(1)).toEqual([840]);
      expect(await registrations.attempt('192.0.2.250')).toBe(0);
    });

    it('should let the address register again once the block is over', async () => {
      await attempts(11);

      advance(15 * MINUTE + 1);

      expect(await attempts(10)).toEqual(Array(10).fill(0));
    });

    it('should not count attempts while the address is refused', async () => {
      await attempts(11);
      await attempts(50);

      expect((await rows()).map((r) => r.failures)).toEqual([11]);
    });

    it('should count the registrations of an address across replicas', async () => {
      const other = new RegistrationThrottle(
        new ThrottleCounts(opened[1].getRepository(LoginThrottleEntity)),
      );
      await attempts(5);
      await attempts(5, other);

      expect(await attempts(1, other)).toEqual([900]);
      expect(await attempts(1)).toEqual([900]);
    });

    it("should count apart from the address's failed logins", async () => {
      await failTimes(30, sut, address);

      expect(await attempts(10)).toEqual(Array(10).fill(0));
    });

    it('should count the registrations of every address of one IPv6 /64 together', async () => {
      for (let i = 0; i < 10; i++) {
        expect(await registrations.attempt(`2001:db8:${run}:9::${i + 1}`)).toBe(0);
      }

      expect(await registrations.attempt(`2001:db8:${run}:9:abcd::1`)).toBe(900);
      expect(await registrations.attempt(`2001:db8:${run}:a::1`)).toBe(0);
    });

    it('should count nothing without an address', async () => {
      for (let i = 0; i < 20; i++) {
        expect(await registrations.attempt(undefined)).toBe(0);
      }
      expect(await rows()).toEqual([]);
    });
  });
});
