import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { NatsContext } from '@nestjs/microservices';
import { headers as natsHeaders } from 'nats';
import type { Principal } from '../principal';
import { bindCallContext, currentCallContext, runInCallScope } from './call-context';
import type { CallContext } from './call-context';
import { bindCallContextOf, callContextOf } from './call-context.binding';

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

/**
 * Runs a request the way a service does: a scope opened where it enters, the context bound at the
 * guard, then an async hop in the handler; returns the context the handler saw.
 */
const seenBy = (
  ctx: ExecutionContextHost,
  auth?: { principal: Principal; token: string },
  delayMs = 0,
): Promise<CallContext | undefined> =>
  runInCallScope(async () => {
    bindCallContextOf(callContextOf(ctx, auth));
    await new Promise((r) => setTimeout(r, delayMs));
    return currentCallContext();
  });

describe('call context', () => {
  describe('on HTTP', () => {
    it("should give the handler the verified caller's token, principal, request id and client ip", async () => {
      const seen = await seenBy(httpContext({ 'x-request-id': 'req-123' }), {
        principal: alice,
        token: 'token-of-alice',
      });

      expect(seen).toEqual({
        requestId: 'req-123',
        clientIp: '203.0.113.7',
        token: 'token-of-alice',
        principal: alice,
      });
    });

    it('should give a public handler no token at all', async () => {
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
      const seen = await seenBy(httpContext(value === undefined ? {} : { 'x-request-id': value }));

      expect(seen?.requestId).toMatch(UUID);
    });

    // With TRUST_PROXY, the address comes from X-Forwarded-For, which the client may have written.
    it.each([
      ['not an address: none', 'not-an-address', undefined],
      ['an address and a port: none', '203.0.113.9:443', undefined],
      ['an IPv6 address with a zone: the address', `fe80::1%${'z'.repeat(200)}`, 'fe80::1'],
    ])('should take a request address that is %s', async (_label, ip, expected) => {
      const seen = await seenBy(httpContext({}, ip));

      expect(seen?.clientIp).toBe(expected);
    });
  });

  describe('on NATS', () => {
    it("should give the handler the verified caller's token and the message's request id and client ip", async () => {
      const ctx = rpcContext({ 'x-request-id': 'req-nats-9', 'x-client-ip': '198.51.100.4' });

      const seen = await seenBy(ctx, { principal: bob, token: 'token-of-bob' });

      expect(seen).toEqual({
        requestId: 'req-nats-9',
        clientIp: '198.51.100.4',
        token: 'token-of-bob',
        principal: bob,
      });
    });

    it.each([
      ['IPv4', '203.0.113.9'],
      ['IPv6', '2001:db8::1'],
      ['IPv4-mapped IPv6', '::ffff:203.0.113.9'],
    ])('should take an %s client address as it came', async (_label, address) => {
      const seen = await seenBy(rpcContext({ 'x-client-ip': address }));

      expect(seen?.clientIp).toBe(address);
    });

    it('should drop the zone of an IPv6 address, which means nothing off the host that saw it', async () => {
      const seen = await seenBy(rpcContext({ 'x-client-ip': `fe80::1%${'z'.repeat(200)}` }));

      expect(seen?.clientIp).toBe('fe80::1');
    });

    it.each([
      ['empty', ''],
      ['a host name', 'gateway.internal'],
      ['two addresses', '203.0.113.9, 198.51.100.4'],
      ['an address and a port', '203.0.113.9:443'],
      ['a long string', `203.0.113.9${'x'.repeat(5000)}`],
      ['an IPv4 address with a zone', '203.0.113.9%eth0'],
    ])('should take a client address that is not one (%s) as none', async (_label, value) => {
      const seen = await seenBy(rpcContext({ 'x-client-ip': value }));

      expect(seen?.clientIp).toBeUndefined();
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
  });

  it('should keep two interleaved requests in their own scopes', async () => {
    const a = httpContext({ 'x-request-id': 'req-a' });
    const b = rpcContext({ 'x-request-id': 'req-b' });

    // a starts first and finishes last, so b runs entirely while a is waiting
    const [seenA, seenB] = await Promise.all([
      seenBy(a, { principal: alice, token: 'token-of-alice' }, 30),
      seenBy(b, { principal: bob, token: 'token-of-bob' }, 5),
    ]);

    expect(seenA).toMatchObject({ requestId: 'req-a', token: 'token-of-alice' });
    expect(seenB).toMatchObject({ requestId: 'req-b', token: 'token-of-bob' });
  });

  it('should not let a public request see the token of the request before it', async () => {
    await seenBy(httpContext(), { principal: alice, token: 'token-of-alice' });

    const seen = await seenBy(httpContext());

    expect(seen?.token).toBeUndefined();
  });

  it('should leave no call context behind once the request is done', async () => {
    await seenBy(httpContext(), { principal: alice, token: 'token-of-alice' });

    expect(currentCallContext()).toBeUndefined();
  });

  it('should refuse to bind a context outside any scope, rather than let requests go out as the service', () => {
    expect(() => bindCallContextOf(callContextOf(httpContext()))).toThrow(/No call scope/);
    expect(bindCallContext({ requestId: 'r' })).toBe(false);
    expect(currentCallContext()).toBeUndefined();
  });
});
