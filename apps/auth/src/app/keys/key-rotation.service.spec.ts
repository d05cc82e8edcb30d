import type { BatonClient, KeyStore } from '@baton/auth';
import { Events } from '@baton/contracts';
import type { AuditService } from '../audit/audit.service';
import { loadAuthServiceEnv } from '../auth.env';
import type { SigningKeysService } from './signing-keys.service';
import { KeyRotation } from './key-rotation.service';

const DAY_MS = 86_400_000;

describe(KeyRotation.name, () => {
  const setup = (days: string, due: string | undefined = undefined) => {
    const signingKeys = {
      rotate: jest.fn(() => Promise.resolve('manual-kid')),
      rotateIfOlderThan: jest.fn(() => Promise.resolve(due)),
    };
    const verificationKeys = { refresh: jest.fn(() => Promise.resolve()) };
    const audit = { record: jest.fn(() => Promise.resolve()) };
    const client = { emit: jest.fn(() => Promise.resolve()) };
    const sut = new KeyRotation(
      signingKeys as unknown as SigningKeysService,
      verificationKeys as unknown as KeyStore,
      audit as unknown as AuditService,
      client as unknown as BatonClient,
      loadAuthServiceEnv({ KEY_ROTATION_DAYS: days }),
    );
    return { sut, signingKeys, verificationKeys, audit, client };
  };

  afterEach(() => jest.useRealTimers());

  it('should announce a rotation an admin asked for: verify with it, audit it, tell every process', async () => {
    const { sut, verificationKeys, audit, client } = setup('90');

    expect(await sut.rotate()).toBe('manual-kid');

    expect(verificationKeys.refresh).toHaveBeenCalled();
    expect(audit.record).toHaveBeenCalledWith({
      type: 'keys.rotated',
      detail: { kid: 'manual-kid' },
    });
    expect(client.emit).toHaveBeenCalledWith(
      Events.keysRotated,
      { kid: 'manual-kid' },
      { asService: true },
    );
  });

  it('should rotate a key KEY_ROTATION_DAYS old, and audit it as scheduled', async () => {
    const { sut, signingKeys, audit, client } = setup('30', 'due-kid');

    expect(await sut.rotateIfDue(1_000)).toBe('due-kid');

    expect(signingKeys.rotateIfOlderThan).toHaveBeenCalledWith(30 * DAY_MS, 1_000);
    expect(audit.record).toHaveBeenCalledWith({
      type: 'keys.rotated',
      detail: { kid: 'due-kid', scheduled: true },
    });
    expect(client.emit).toHaveBeenCalledWith(
      Events.keysRotated,
      { kid: 'due-kid' },
      { asService: true },
    );
  });

  it('should announce nothing when no key was due', async () => {
    const { sut, audit, client } = setup('30');

    expect(await sut.rotateIfDue()).toBeUndefined();

    expect(audit.record).not.toHaveBeenCalled();
    expect(client.emit).not.toHaveBeenCalled();
  });

  it('should check at once, then every hour, until it stops', async () => {
    jest.useFakeTimers();
    const { sut, signingKeys } = setup('90');

    sut.startSchedule();
    await jest.advanceTimersByTimeAsync(0);
    expect(signingKeys.rotateIfOlderThan).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(3_600_000);
    expect(signingKeys.rotateIfOlderThan).toHaveBeenCalledTimes(2);

    await sut.onModuleDestroy();
    await jest.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(signingKeys.rotateIfOlderThan).toHaveBeenCalledTimes(2);
  });

  it('should never check with KEY_ROTATION_DAYS=0', async () => {
    jest.useFakeTimers();
    const { sut, signingKeys } = setup('0');

    sut.startSchedule();
    await jest.advanceTimersByTimeAsync(100 * 3_600_000);

    expect(signingKeys.rotateIfOlderThan).not.toHaveBeenCalled();
    await sut.onModuleDestroy();
  });

  it('should keep checking after a check failed', async () => {
    jest.useFakeTimers();
    const { sut, signingKeys } = setup('90');
    signingKeys.rotateIfOlderThan.mockRejectedValueOnce(new Error('database unavailable'));

    sut.startSchedule();
    await jest.advanceTimersByTimeAsync(3_600_000);

    expect(signingKeys.rotateIfOlderThan).toHaveBeenCalledTimes(2);
    await sut.onModuleDestroy();
  });
});
