import { leaksInLogs } from './log-leaks';

describe(leaksInLogs.name, () => {
  it('should find a token, a private key, a crash and a given secret, per service', () => {
    const sut = leaksInLogs(
      {
        gateway: ['{"msg":"ok"}\n', 'Bearer eyJhbGciOi'],
        auth: ['-----BEGIN PRIVATE KEY-----\n'],
        orders: ['boom\nNode.js v20.20.2\n'],
        profile: ['password=hunter2-hunter2'],
      },
      ['hunter2-hunter2'],
    );
    expect(sut.map((l) => [l.service, l.found.length])).toEqual([
      ['gateway', 1],
      ['auth', 1],
      ['orders', 1],
      ['profile', 1],
    ]);
    expect(JSON.stringify(sut)).not.toContain('hunter2-hunter2');
  });

  it('should report nothing for clean logs', () => {
    expect(leaksInLogs({ gateway: ['{"msg":"request completed"}'] }, ['secret-1234'])).toEqual([]);
  });
});
