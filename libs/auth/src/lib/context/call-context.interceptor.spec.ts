import type { CallHandler } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { NatsContext } from '@nestjs/microservices';
import { headers as natsHeaders } from 'nats';
import { defer, firstValueFrom, of } from 'rxjs';
import type { Principal } from '../principal';
import { currentCallContext } from './call-context';
import type { CallContext } from './call-context';
import { CallContextInterceptor } from './call-context.interceptor';
import { setAuthenticated } from './principal-slot';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const alice: Principal = {
  sub: 'alice',
  roles: ['user'],
  sid: 'sid-a',
  jti: 'jti-a',
  iat: 1,
  exp: 2,
};
const bob: Principal = { sub: 'bob', roles: ['admin'], sid: 'sid-b', jti: 'jti-b', iat: 1, exp: 2 };

class ProbeController {
  handler(): void {
    // only its identity matters
  }
}

function httpContext(
  headers: Record<string, string> = {},
  ip = '203.0.113.7',
): ExecutionContextHost {
  const ctx = new ExecutionContextHost(
    [{ headers, ip }, {}],
    ProbeController,
    ProbeController.prototype.handler,
  );
  ctx.setType('http');
  return ctx;
}

function rpcContext(headers: Record<string, string> = {}): ExecutionContextHost {
  const h = natsHeaders();
  for (const [name, value] of Object.entries(headers)) {
    h.set(name, value);
  }
  const nats = new NatsContext(['orders.create', h]);
  const ctx = new ExecutionContextHost(
    [{}, nats],
    ProbeController,
    ProbeController.prototype.handler,
  );
  ctx.setType('rpc');
  return ctx;
}

/** A handler that reports the call context it ran in, after an async hop. */
const reportingHandler = (delayMs = 0): CallHandler<CallContext | undefined> => ({
  handle: () =>
    defer(async () => {
      await new Promise((r) => setTimeout(r, delayMs));
      return currentCallContext();
    }),
});

describe(CallContextInterceptor.name, () => {
  let sut: CallContextInterceptor;

  /** Runs a reporting handler through the interceptor and returns the call context it saw. */
  const seenBy = (ctx: ExecutionContextHost, delayMs = 0): Promise<CallContext | undefined> =>
    firstValueFrom(sut.intercept(ctx, reportingHandler(delayMs))) as Promise<
      CallContext | undefined
    >;

  beforeEach(() => {
    sut = new CallContextInterceptor();
  });

  describe('on HTTP', () => {
    it("should run the handler with the verified caller's token, principal, request id and client ip", async () => {
      const ctx = httpContext({ 'x-request-id': 'req-123' });
      setAuthenticated(ctx, { principal: alice, token: 'token-of-alice' });

      const seen = await seenBy(ctx);

      expect(seen).toEqual({
        requestId: 'req-123',
        clientIp: '203.0.113.7',
        token: 'token-of-alice',
        principal: alice,
      });
    });

    it('should run a public handler with no token at all', async () => {
      const seen = await seenBy(httpContext({ 'x-request-id': 'req-1' }));

      expect(seen?.token).toBeUndefined();
      expect(seen?.principal).toBeUndefined();
      expect(seen?.requestId).toBe('req-1');
    });

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['too long', 'r'.repeat(129)],
      ['with a space', 'req 1'],
      ['with a newline (log injection)', 'req-1\nlevel=admin'],
      ['with a slash', 'req/1'],
    ])('should replace a request id (%s) with a fresh UUID', async (_label, value) => {
      const ctx = httpContext(value === undefined ? {} : { 'x-request-id': value });

      const seen = await seenBy(ctx);

      expect(seen?.requestId).toMatch(UUID);
    });
  });

  describe('on NATS', () => {
    it("should run the handler with the verified caller's token and the message's request id and client ip", async () => {
      const ctx = rpcContext({ 'x-request-id': 'req-nats-9', 'x-client-ip': '198.51.100.4' });
      setAuthenticated(ctx, { principal: bob, token: 'token-of-bob' });

      const seen = await seenBy(ctx);

      expect(seen).toEqual({
        requestId: 'req-nats-9',
        clientIp: '198.51.100.4',
        token: 'token-of-bob',
        principal: bob,
      });
    });

    it('should give a message without headers a fresh request id and no token', async () => {
      const nats = new NatsContext(['orders.create', undefined]);
      const ctx = new ExecutionContextHost(
        [{}, nats],
        ProbeController,
        ProbeController.prototype.handler,
      );
      ctx.setType('rpc');

      const seen = await seenBy(ctx);

      expect(seen?.requestId).toMatch(UUID);
      expect(seen?.token).toBeUndefined();
      expect(seen?.clientIp).toBeUndefined();
    });

    it('should not take the token of another message that is being handled', async () => {
      const mine = rpcContext();
      const theirs = rpcContext();
      setAuthenticated(theirs, { principal: bob, token: 'token-of-bob' });

      const seen = await seenBy(mine);

      expect(seen?.token).toBeUndefined();
    });
  });

  it('should keep two interleaved requests in their own contexts', async () => {
    const a = httpContext({ 'x-request-id': 'req-a' });
    const b = rpcContext({ 'x-request-id': 'req-b' });
    setAuthenticated(a, { principal: alice, token: 'token-of-alice' });
    setAuthenticated(b, { principal: bob, token: 'token-of-bob' });

    // a starts first and finishes last, so b runs entirely while a is waiting
    const [seenA, seenB] = await Promise.all([seenBy(a, 30), seenBy(b, 5)]);

    expect(seenA).toMatchObject({ requestId: 'req-a', token: 'token-of-alice' });
    expect(seenB).toMatchObject({ requestId: 'req-b', token: 'token-of-bob' });
  });

  it('should leave no call context behind once the handler is done', async () => {
    const ctx = httpContext();
    setAuthenticated(ctx, { principal: alice, token: 'token-of-alice' });

    await seenBy(ctx);

    expect(currentCallContext()).toBeUndefined();
  });

  it("should pass the handler's values through unchanged", async () => {
    const answer = { id: 'order-1', total: 42 };

    await expect(
      firstValueFrom(sut.intercept(httpContext(), { handle: () => of(answer) })),
    ).resolves.toBe(answer);
  });
});
