import type { BatonClient } from './client/baton-client';
import type { KeyStore } from './keys/key-store';
import type { RevocationStore } from './revocation/revocation-store';
import type { BatonAuthOptions } from './baton-auth.options';
import { AuthRuntime } from './auth-runtime';

describe(AuthRuntime.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const runtime = (jwksRefreshIntervalMs?: number) => {
    const keys = { refresh: jest.fn(() => Promise.resolve()) };
    const sut = new AuthRuntime(
      {} as BatonClient,
      keys as unknown as KeyStore,
      {} as RevocationStore,
      { jwksRefreshIntervalMs } as BatonAuthOptions,
    );
    return { sut, keys };
  };

  it('should fetch the JWKS at start, then again every interval, until it stops', async () => {
    const { sut, keys } = runtime(60_000);

    await sut.onApplicationBootstrap();
    expect(keys.refresh).toHaveBeenCalledTimes(1);

    jest.advanceTimersByTime(59_999);
    expect(keys.refresh).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1);
    expect(keys.refresh).toHaveBeenCalledTimes(2);
    jest.advanceTimersByTime(120_000);
    expect(keys.refresh).toHaveBeenCalledTimes(4);

    sut.onModuleDestroy();
    jest.advanceTimersByTime(600_000);
    expect(keys.refresh).toHaveBeenCalledTimes(4);
  });

  it('should fetch it every five minutes unless told otherwise', async () => {
    const { sut, keys } = runtime();

    await sut.onApplicationBootstrap();
    jest.advanceTimersByTime(300_000);

    expect(keys.refresh).toHaveBeenCalledTimes(2);
    sut.onModuleDestroy();
  });
});
