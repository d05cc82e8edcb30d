import { Writable } from 'node:stream';
import { Controller, Module, NotFoundException } from '@nestjs/common';
import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { connect, JSONCodec } from 'nats';
import type { NatsConnection } from 'nats';
import { of, throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { natsRequest, startNatsServer } from '@baton/testing';
import type { NatsServerHandle } from '@baton/testing';
import { bindCallContext, currentCallContext } from '../context/call-context';
import { RpcErrorFilter } from '../errors/rpc-error.filter';
import { BatonNatsServer } from '../nats-microservice';
import type { Principal } from '../principal';
import { createServiceLogger } from './service-logger';

/*
 * The one line BatonNatsServer logs per message, on a real nats-server: subject, outcome, duration,
 * and the request id and caller of the call scope the message was handled in.
 */

const caller: Principal = { sub: 'user-1', roles: ['user'], sid: 's', jti: 'j', iat: 1, exp: 2 };
let eventsHandled = 0;

@Controller()
class LogProbeController {
  @MessagePattern('orders.list')
  list(): unknown[] {
    return [];
  }

  /** Binds a caller as the guard does, then answers after an async hop. */
  @MessagePattern('orders.create')
  async create(): Promise<{ id: string; sawRequestId?: string }> {
    bindCallContext({ requestId: 'req-from-gateway', principal: caller, token: 'tok' });
    await new Promise((r) => setTimeout(r, 2));
    return { id: 'o', sawRequestId: currentCallContext()?.requestId };
  }

  @MessagePattern('orders.get')
  get(): never {
    throw new NotFoundException('No such order');
  }

  @MessagePattern('orders.broken')
  broken(): never {
    throw new Error('db gone');
  }

  @MessagePattern('orders.streamed')
  streamed(): Observable<{ n: number }> {
    return of({ n: 1 });
  }

  @MessagePattern('orders.streamFailed')
  streamFailed(): Observable<never> {
    return throwError(() => new NotFoundException('not in the stream'));
  }

  @MessagePattern('orders.health')
  health(): { status: string } {
    return { status: 'ok' };
  }

  @EventPattern('orders.noted')
  noted(): void {
    eventsHandled++;
  }

  @EventPattern('orders.refused')
  refused(): never {
    throw new NotFoundException('nothing to note');
  }
}

@Module({ controllers: [LogProbeController] })
class LogProbeModule {}

describe('message log (BatonNatsServer)', () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let app: INestMicroservice;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const { outcomeLogger: logger } = createServiceLogger('orders', {
      level: 'debug',
      destination,
    });
    app = await NestFactory.createMicroservice<MicroserviceOptions>(LogProbeModule, {
      strategy: new BatonNatsServer({ servers: [nats.url], queue: 'log-probe' }, logger),
      logger: false,
    });
    app.useGlobalFilters(new RpcErrorFilter());
    await app.listen();
    await app.unwrap<NatsConnection>().flush();
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await nats?.stop();
  });

  beforeEach(() => {
    lines.length = 0;
  });

  /** The lines about `subject`, once there are `count` of them. */
  async function linesAbout(subject: string, count = 1): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const found = lines.filter((l) => l['subject'] === subject);
      if (found.length >= count || Date.now() > deadline) {
        return found;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('should log a handled message with its subject and duration', async () => {
    await expect(natsRequest(nc, 'orders.list', {})).resolves.toMatchObject({ response: [] });

    expect(await linesAbout('orders.list')).toEqual([
      expect.objectContaining({
        level: 'info',
        service: 'orders',
        subject: 'orders.list',
        durationMs: expect.any(Number),
        msg: 'message handled',
      }),
    ]);
  });

  it("should carry the request id and caller bound to the message's scope, after an async hop", async () => {
    const reply = await natsRequest(nc, 'orders.create', {});

    expect(reply.response).toEqual({ id: 'o', sawRequestId: 'req-from-gateway' });
    expect((await linesAbout('orders.create'))[0]).toMatchObject({
      requestId: 'req-from-gateway',
      sub: 'user-1',
      msg: 'message handled',
    });
  });

  it('should not let the next message see the scope of the one before', async () => {
    await natsRequest(nc, 'orders.create', {});
    await natsRequest(nc, 'orders.list', {});

    const [line] = await linesAbout('orders.list');
    expect(line?.['sub']).toBeUndefined();
    expect(line?.['requestId']).toBeUndefined();
  });

  it('should log a refused message with its status, at info for a client error and at error for a failure', async () => {
    await expect(natsRequest(nc, 'orders.get', {})).resolves.toMatchObject({
      err: { statusCode: 404 },
    });
    await expect(natsRequest(nc, 'orders.broken', {})).resolves.toMatchObject({
      err: { statusCode: 500 },
    });

    const outcome = (l: Record<string, unknown>) => ({
      level: l['level'],
      statusCode: l['statusCode'],
      msg: l['msg'],
    });
    expect((await linesAbout('orders.get')).map(outcome)).toEqual([
      { level: 'info', statusCode: 404, msg: 'message failed' },
    ]);
    expect((await linesAbout('orders.broken')).map(outcome)).toEqual([
      { level: 'error', statusCode: 500, msg: 'message failed' },
    ]);
  });

  it("should answer a handler's value, and a handler's stream, with one reply of Nest's shape", async () => {
    const packet = async (subject: string) => {
      const reply = await nc.request(
        subject,
        JSONCodec().encode({ pattern: subject, data: {}, id: `id-${subject}` }),
        { timeout: 5000 },
      );
      return JSONCodec().decode(reply.data);
    };

    await expect(packet('orders.list')).resolves.toEqual({
      id: 'id-orders.list',
      response: [],
      isDisposed: true,
    });
    await expect(packet('orders.streamed')).resolves.toEqual({
      id: 'id-orders.streamed',
      response: { n: 1 },
      isDisposed: true,
    });
    await expect(packet('orders.streamFailed')).resolves.toMatchObject({
      id: 'id-orders.streamFailed',
      err: { statusCode: 404, message: 'not in the stream' },
    });
    expect(await linesAbout('orders.streamed')).toEqual([
      expect.objectContaining({ msg: 'message handled' }),
    ]);
    expect(await linesAbout('orders.streamFailed')).toEqual([
      expect.objectContaining({ statusCode: 404, msg: 'message failed' }),
    ]);
  });

  it('should log health probes at debug', async () => {
    await natsRequest(nc, 'orders.health', {});

    expect((await linesAbout('orders.health'))[0]).toMatchObject({ level: 'debug' });
  });

  it('should log events too: handled, or failed with their status', async () => {
    const jc = JSONCodec();
    const before = eventsHandled;
    nc.publish('orders.noted', jc.encode({ pattern: 'orders.noted', data: {} }));
    nc.publish('orders.refused', jc.encode({ pattern: 'orders.refused', data: {} }));

    expect((await linesAbout('orders.noted'))[0]).toMatchObject({
      level: 'info',
      msg: 'message handled',
    });
    expect(eventsHandled).toBe(before + 1);
    expect((await linesAbout('orders.refused'))[0]).toMatchObject({
      level: 'info',
      statusCode: 404,
      msg: 'message failed',
    });
  });
});
