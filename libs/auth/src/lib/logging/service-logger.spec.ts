import { Writable } from 'node:stream';
import type { Principal } from '../principal';
import { runInCallContext } from '../context/call-context';
import { createPinoLogger, createServiceLogger, pinoLevel } from './service-logger';

/** A destination that keeps every line pino writes, parsed. */
function capture(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { stream, lines };
}

const alice: Principal = { sub: 'user-alice', roles: ['user'], sid: 's', jti: 'j', iat: 1, exp: 2 };

describe(createPinoLogger.name, () => {
  it('should write JSON lines that name the service, with the level as a word', () => {
    const { stream, lines } = capture();
    const sut = createPinoLogger('orders', { destination: stream });

    sut.info({ subject: 'orders.create' }, 'message handled');

    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        service: 'orders',
        subject: 'orders.create',
        msg: 'message handled',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      }),
    ]);
  });

  it("should add the request id and the caller's sub to every line logged in a call context", async () => {
    const { stream, lines } = capture();
    const sut = createPinoLogger('orders', { destination: stream });

    await runInCallContext({ requestId: 'req-7', principal: alice, token: 'tok' }, async () => {
      sut.info('before an async hop');
      await new Promise((r) => setTimeout(r, 1));
      sut.warn('after it');
    });
    sut.info('outside any request');

    expect(lines.map(({ requestId, sub, msg }) => ({ requestId, sub, msg }))).toEqual([
      { requestId: 'req-7', sub: 'user-alice', msg: 'before an async hop' },
      { requestId: 'req-7', sub: 'user-alice', msg: 'after it' },
      { requestId: undefined, sub: undefined, msg: 'outside any request' },
    ]);
  });

  it('should give an anonymous request its request id and no sub', () => {
    const { stream, lines } = capture();
    const sut = createPinoLogger('gateway', { destination: stream });

    runInCallContext({ requestId: 'req-anon' }, () => sut.info('public route'));

    expect(lines[0]).toMatchObject({ requestId: 'req-anon' });
    expect(lines[0]).not.toHaveProperty('sub');
  });

  it('should never write the call context token, even when the context itself is logged', () => {
    const { stream, lines } = capture();
    const sut = createPinoLogger('gateway', { destination: stream });

    sut.info(
      {
        context: { requestId: 'r', token: 'eyJ.secret.token' },
        headers: { authorization: 'Bearer eyJ.secret.token' },
        accessToken: 'eyJ.access',
        refreshToken: 'opaque-refresh',
        password: 'a long passphrase',
        body: { password: 'another passphrase', refreshToken: 'opaque-2' },
      },
      'a careless line',
    );

    const written = JSON.stringify(lines);
    for (const secret of ['eyJ', 'opaque-refresh', 'opaque-2', 'passphrase']) {
      expect({ secret, found: written.includes(secret) }).toEqual({ secret, found: false });
    }
    expect(lines[0]).toMatchObject({
      context: { requestId: 'r', token: '[redacted]' },
      headers: { authorization: '[redacted]' },
      password: '[redacted]',
    });
  });

  it.each([
    ['warn', ['warn', 'error']],
    ['log', ['info', 'warn', 'error']],
    ['verbose', ['trace', 'debug', 'info', 'warn', 'error']],
    [undefined, ['info', 'warn', 'error']],
  ])('should log at LOG_LEVEL=%s only the levels %j', (level, expected) => {
    const { stream, lines } = capture();
    const sut = createPinoLogger('profile', { level, destination: stream });

    for (const method of ['trace', 'debug', 'info', 'warn', 'error'] as const) {
      sut[method](method);
    }

    expect(lines.map((l) => l['level'])).toEqual(expected);
  });
});

describe(pinoLevel.name, () => {
  it("should map Nest's level names to pino's, and anything else to info", () => {
    expect(
      ['fatal', 'error', 'warn', 'log', 'debug', 'verbose', 'nonsense'].map(pinoLevel),
    ).toEqual(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'info']);
  });
});

describe(createServiceLogger.name, () => {
  it("should give Nest a logger that writes the same JSON, with Nest's context", () => {
    const { stream, lines } = capture();
    const { nestLogger } = createServiceLogger('auth', { destination: stream });

    runInCallContext({ requestId: 'req-9', principal: alice }, () =>
      nestLogger.log('revocation list loaded', 'BatonAuth'),
    );
    nestLogger.error(
      'it broke',
      'Error: it broke\n    at somewhere (file.ts:1:1)',
      'RpcErrorFilter',
    );

    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'auth',
      context: 'BatonAuth',
      requestId: 'req-9',
      sub: 'user-alice',
      msg: 'revocation list loaded',
    });
    expect(lines[1]).toMatchObject({
      level: 'error',
      context: 'RpcErrorFilter',
      err: expect.objectContaining({ stack: expect.stringContaining('at somewhere') }),
    });
  });
});

describe(`${createServiceLogger.name}'s outcome logger`, () => {
  /** The raw lines written to a destination, each with its time taken out. */
  function rawCapture(): { stream: Writable; lines: string[] } {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          lines.push(line.replace(/"time":"[^"]+"/, '"time":"T"'));
        }
        done();
      },
    });
    return { stream, lines };
  }

  it.each([
    [
      'in a call context with a caller',
      { requestId: 'req-3', principal: alice, token: 'tok' },
      { subject: 'baton.orders.get', statusCode: 404, durationMs: 1.5 },
    ],
    ['in a call context without a caller', { requestId: 'req-4' }, { subject: 'x', durationMs: 0 }],
    ['outside any call context', undefined, { route: '/orders', statusCode: 200 }],
    [
      "with the line's own request id and an undefined sub over the context's",
      { requestId: 'req-5', principal: alice },
      { requestId: 'req-own', sub: undefined, method: 'GET', durationMs: 12.3 },
    ],
    [
      'with values JSON must escape, and numbers it cannot hold',
      { requestId: 'req-"6"\n', principal: { ...alice, sub: 'ü\u2028\\' } },
      { route: '/a"b\\c\td\u0001', durationMs: Number.NaN, statusCode: Infinity },
    ],
  ])(
    'should write, %s, the very bytes the logger writes for the same line',
    (_when, context, fields) => {
      const { stream, lines } = rawCapture();
      const { logger, outcomeLogger } = createServiceLogger('orders', { destination: stream });
      const both = () => {
        logger.info(fields, 'message "failed"');
        outcomeLogger.write('info', fields, 'message "failed"');
      };

      if (context) {
        runInCallContext(context, both);
      } else {
        both();
      }

      expect(lines).toHaveLength(2);
      expect(lines[1]).toBe(lines[0]);
      expect(JSON.parse(lines[1] ?? '')).toMatchObject({ level: 'info', service: 'orders' });
    },
  );

  it('should write a debug line only when the level lets it, and an error line always', () => {
    for (const [level, written] of [
      ['log', ['info', 'error']],
      ['debug', ['debug', 'info', 'error']],
      ['error', ['error']],
    ] as const) {
      const { stream, lines } = capture();
      const { outcomeLogger } = createServiceLogger('orders', { level, destination: stream });

      for (const at of ['debug', 'info', 'error'] as const) {
        outcomeLogger.write(at, { subject: at }, 'm');
      }

      expect(lines.map((l) => l['level'])).toEqual(written);
    }
  });

  it('should leave redaction to the logger: it is for fields Baton sets', () => {
    const { stream, lines } = capture();
    const { logger, outcomeLogger } = createServiceLogger('orders', { destination: stream });

    logger.info({ token: 'not-for-logs' }, 'x');
    outcomeLogger.write('info', { route: '/orders' }, 'y');

    expect(lines[0]?.['token']).toBe('[redacted]');
    expect(lines[1]).toMatchObject({ route: '/orders', msg: 'y' });
  });
});

describe(`${createServiceLogger.name} twice`, () => {
  it('should keep each logger writing to its own destination', () => {
    const first = capture();
    const second = capture();
    const a = createServiceLogger('a', { destination: first.stream });
    const b = createServiceLogger('b', { destination: second.stream });

    a.nestLogger.log('from a');
    b.nestLogger.log('from b');

    expect(first.lines.map((l) => [l['service'], l['msg']])).toEqual([['a', 'from a']]);
    expect(second.lines.map((l) => [l['service'], l['msg']])).toEqual([['b', 'from b']]);
  });
});
