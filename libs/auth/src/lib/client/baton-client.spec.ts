import { ServiceUnavailableException } from '@nestjs/common';
import type { HttpException } from '@nestjs/common';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import type { ClientNats } from '@nestjs/microservices';
import { connect, JSONCodec } from 'nats';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle } from '@baton/testing';
import { ALGORITHM_ALLOWLIST } from '../auth.constants';
import type { BatonAuthOptions } from '../baton-auth.options';
import { runInCallContext } from '../context/call-context';
import type { CallContext } from '../context/call-context';
import { RemoteException } from '../errors/remote.exception';
import { BatonClient } from './baton-client';
import { ServiceTokenSource } from './service-token.source';

const jc = JSONCodec<unknown>();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Seen {
  subject: string;
  authorization: string | null;
  requestId: string | null;
  clientIp: string | null;
  idempotencyKey: string | null;
  data: unknown;
}

/**
 * A service on the far side of NATS, subscribed raw so the test sees exactly what travelled on the
 * wire. It answers like a NestJS NATS server (`{id, response, isDisposed}`) with the headers it saw;
 * with `batch = n` it holds answers until n requests are in flight, to prove they overlapped.
 */
class Downstream {
  readonly seen: Seen[] = [];
  batch = 1;
  private held: Array<{ msg: Msg; id?: string; seen: Seen }> = [];
  private readonly sub: Subscription;

  constructor(nc: NatsConnection, subject: string) {
    this.sub = nc.subscribe(subject, { callback: (_err, msg) => this.receive(msg) });
  }

  reset(batch = 1): void {
    this.seen.length = 0;
    this.held = [];
    this.batch = batch;
  }

  stop(): void {
    this.sub.unsubscribe();
  }

  private receive(msg: Msg): void {
    const h = msg.headers;
    const packet = jc.decode(msg.data) as { id?: string; data?: unknown };
    const seen: Seen = {
      subject: msg.subject,
      authorization: h?.get('authorization') || null,
      requestId: h?.get('x-request-id') || null,
      clientIp: h?.get('x-client-ip') || null,
      idempotencyKey: h?.get('idempotency-key') || null,
      data: packet.data,
    };
    this.seen.push(seen);
    if (!msg.reply) {
      return; // an event
    }
    this.held.push({ msg, id: packet.id, seen });
    if (this.held.length >= this.batch) {
      for (const { msg: m, id, seen: s } of this.held.splice(0)) {
        m.respond(jc.encode({ id, response: s, isDisposed: true }));
      }
    }
  }
}

class FixedServiceToken extends ServiceTokenSource {
  calls = 0;

  token(): Promise<string> {
    this.calls++;
    return Promise.resolve('token-of-the-orders-service');
  }
}

const alice: CallContext = {
  requestId: 'req-alice-1',
  token: 'token-of-alice',
  clientIp: '203.0.113.7',
};
const bob: CallContext = { requestId: 'req-bob-1', token: 'token-of-bob' };

describe(BatonClient.name, () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let nestClient: ClientNats;
  let downstream: Downstream;
  let sut: BatonClient;

  const options: BatonAuthOptions = {
    service: 'gateway',
    natsServers: [],
    issuer: 'baton-auth',
    audience: 'baton',
    algorithms: ALGORITHM_ALLOWLIST,
    requestTimeoutMs: 3000,
    accessTokenTtl: 900,
    jwksRefetchIntervalMs: 10_000,
    verifiedTokenCacheSize: 0,
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    downstream = new Downstream(nc, 'probe.>');
    await nc.flush();
    options.natsServers = [nats.url];
    // Exactly what BatonAuthModule provides as BATON_NATS_CLIENT: no client-wide headers.
    nestClient = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: { servers: [nats.url], name: 'gateway-client' },
    }) as ClientNats;
    await nestClient.connect();
  });

  afterAll(async () => {
    downstream?.stop();
    await nestClient?.close();
    await nc?.close();
    await nats?.stop();
  });

  beforeEach(() => {
    downstream.reset();
    sut = new BatonClient(nestClient, options);
  });

  describe('inside a request', () => {
    it("should put the caller's token, request id and client ip on the message's own headers", async () => {
      const answer = await runInCallContext(alice, () =>
        sut.send<Seen>('probe.echo', { orderId: 'o-1' }),
      );

      expect(downstream.seen).toEqual([
        {
          subject: 'probe.echo',
          authorization: 'Bearer token-of-alice',
          requestId: 'req-alice-1',
          clientIp: '203.0.113.7',
          idempotencyKey: null,
          data: { orderId: 'o-1' },
        },
      ]);
      expect(answer.authorization).toBe('Bearer token-of-alice');
    });

    it('should still find the caller after the handler has awaited something', async () => {
      await runInCallContext(alice, async () => {
        await new Promise((r) => setTimeout(r, 10));
        await Promise.resolve();
        return sut.send('probe.echo', { after: 'await' });
      });

      expect(downstream.seen[0]?.authorization).toBe('Bearer token-of-alice');
    });

    it('should give two concurrent requests from different users each their own token', async () => {
      downstream.reset(2); // neither is answered until both are on the wire

      const [forAlice, forBob] = await Promise.all([
        runInCallContext(alice, () => sut.send<Seen>('probe.echo', { who: 'alice' })),
        runInCallContext(bob, () => sut.send<Seen>('probe.echo', { who: 'bob' })),
      ]);

      expect(forAlice).toMatchObject({
        authorization: 'Bearer token-of-alice',
        requestId: 'req-alice-1',
      });
      expect(forBob).toMatchObject({
        authorization: 'Bearer token-of-bob',
        requestId: 'req-bob-1',
      });
      expect(downstream.seen).toHaveLength(2);
      expect(downstream.seen).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            data: { who: 'alice' },
            authorization: 'Bearer token-of-alice',
          }),
          expect.objectContaining({ data: { who: 'bob' }, authorization: 'Bearer token-of-bob' }),
        ]),
      );
    });

    it("should send events with the caller's token too", async () => {
      await runInCallContext(bob, () => sut.emit('probe.event', { happened: true }));
      await nc.flush();
      await waitFor(() => downstream.seen.length === 1);

      expect(downstream.seen[0]).toMatchObject({
        subject: 'probe.event',
        authorization: 'Bearer token-of-bob',
        requestId: 'req-bob-1',
      });
    });

    it('should put extra headers on that one message only', async () => {
      await runInCallContext(alice, () =>
        sut.send('probe.echo', { n: 1 }, { headers: { 'idempotency-key': 'idem-1' } }),
      );
      await runInCallContext(alice, () => sut.send('probe.echo', { n: 2 }));

      expect(downstream.seen.map((s) => s.idempotencyKey)).toEqual(['idem-1', null]);
    });
  });

  describe('outside a request', () => {
    it("should not carry an earlier caller's token (no client-wide header)", async () => {
      await runInCallContext(alice, () => sut.send('probe.echo', { n: 1 }));

      await sut.send('probe.echo', { n: 2 });

      expect(downstream.seen[0]?.authorization).toBe('Bearer token-of-alice');
      expect(downstream.seen[1]?.authorization).toBeNull();
      expect(downstream.seen[1]?.requestId).toMatch(UUID);
      expect(downstream.seen[1]?.clientIp).toBeNull();
    });

    it("should use the service's own token when it has one", async () => {
      const serviceTokens = new FixedServiceToken();
      sut = new BatonClient(nestClient, options, serviceTokens);

      await sut.send('probe.echo', {});

      expect(downstream.seen[0]?.authorization).toBe('Bearer token-of-the-orders-service');
    });

    it("should use the service's token inside a request only when asked to (asService)", async () => {
      sut = new BatonClient(nestClient, options, new FixedServiceToken());

      await runInCallContext(alice, () => sut.send('probe.echo', { n: 1 }));
      await runInCallContext(alice, () => sut.send('probe.echo', { n: 2 }, { asService: true }));

      expect(downstream.seen.map((s) => s.authorization)).toEqual([
        'Bearer token-of-alice',
        'Bearer token-of-the-orders-service',
      ]);
      expect(downstream.seen[1]?.requestId).toBe('req-alice-1');
    });

    it('should take the service token from a source set later with useServiceTokens', async () => {
      sut.useServiceTokens(new FixedServiceToken());

      await sut.send('probe.echo', {});

      expect(downstream.seen[0]?.authorization).toBe('Bearer token-of-the-orders-service');
    });
  });

  describe('errors', () => {
    let refuser: Subscription;
    let silent: Subscription;

    beforeAll(async () => {
      refuser = nc.subscribe('refuse.me', {
        callback: (_err, msg) => {
          const { id } = jc.decode(msg.data) as { id: string };
          msg.respond(
            jc.encode({
              id,
              err: { statusCode: 403, error: 'Forbidden', message: 'Not yours' },
              isDisposed: true,
            }),
          );
        },
      });
      silent = nc.subscribe('silent.service', { callback: () => undefined });
      await nc.flush();
    });

    afterAll(() => {
      refuser.unsubscribe();
      silent.unsubscribe();
    });

    it('should rethrow the error another service answered with, status and body intact', async () => {
      const error = await sut.send('refuse.me', {}).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(RemoteException);
      expect((error as HttpException).getStatus()).toBe(403);
      expect((error as RemoteException).body).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        message: 'Not yours',
      });
    });

    it('should answer 503 naming the service when it does not answer in time', async () => {
      const error = await sut
        .send('silent.service', {}, { timeoutMs: 150 })
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ServiceUnavailableException);
      expect((error as HttpException).message).toBe('The silent service did not answer in time');
    });

    it('should answer 503 when no instance of the service is listening, knowing it without waiting out the timeout', async () => {
      const error = await sut
        .send('nobody.home', {}, { timeoutMs: 60_000 })
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ServiceUnavailableException);
      expect((error as HttpException).getStatus()).toBe(503);
      // NATS said nobody listens (no responders); a timeout would read "did not answer in time"
      expect((error as HttpException).message).toBe('The nobody service is unavailable');
    });
  });
});
