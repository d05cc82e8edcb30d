import { Writable } from 'node:stream';
import { HttpException, NotFoundException } from '@nestjs/common';
import type { CallHandler } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { NatsContext } from '@nestjs/microservices';
import { headers as natsHeaders } from 'nats';
import { defer, firstValueFrom, lastValueFrom, of, throwError } from 'rxjs';
import { CallContextInterceptor } from '../context/call-context.interceptor';
import { setAuthenticated } from '../context/principal-slot';
import { MessageLoggingInterceptor } from './message-logging.interceptor';
import { createPinoLogger } from './service-logger';

class ProbeController {
  handler(): void {
    // only its identity matters
  }
}

function rpcContext(subject: string, requestId?: string): ExecutionContextHost {
  const h = natsHeaders();
  if (requestId) {
    h.set('x-request-id', requestId);
  }
  const ctx = new ExecutionContextHost(
    [{}, new NatsContext([subject, h])],
    ProbeController,
    ProbeController.prototype.handler,
  );
  ctx.setType('rpc');
  return ctx;
}

describe(MessageLoggingInterceptor.name, () => {
  let lines: Record<string, unknown>[];
  let sut: MessageLoggingInterceptor;

  beforeEach(() => {
    lines = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    sut = new MessageLoggingInterceptor(
      createPinoLogger('orders', { level: 'debug', destination }),
    );
  });

  const run = (ctx: ExecutionContextHost, next: CallHandler) =>
    lastValueFrom(sut.intercept(ctx, next), { defaultValue: undefined });

  it('should log a handled message with its subject and duration', async () => {
    await run(rpcContext('orders.list'), { handle: () => of([]) });

    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        service: 'orders',
        subject: 'orders.list',
        durationMs: expect.any(Number),
        msg: 'message handled',
      }),
    ]);
  });

  it("should carry the message's request id and caller when it wraps the call context, as in a service", async () => {
    const ctx = rpcContext('orders.create', 'req-from-gateway');
    const principal = {
      sub: 'user-1',
      roles: ['user' as const],
      sid: 's',
      jti: 'j',
      iat: 1,
      exp: 2,
    };
    setAuthenticated(ctx, { principal, token: 'tok' });
    const handler: CallHandler = {
      handle: () => defer(async () => new Promise((r) => setTimeout(() => r({ id: 'o' }), 2))),
    };

    await run(ctx, { handle: () => new CallContextInterceptor().intercept(ctx, handler) });

    expect(lines[0]).toMatchObject({
      subject: 'orders.create',
      requestId: 'req-from-gateway',
      sub: 'user-1',
    });
  });

  it('should log a refused message with its status, at info for a client error and at error for a failure', async () => {
    await expect(
      run(rpcContext('orders.get'), { handle: () => throwError(() => new NotFoundException()) }),
    ).rejects.toBeInstanceOf(NotFoundException);
    await expect(
      run(rpcContext('orders.get'), { handle: () => throwError(() => new Error('db gone')) }),
    ).rejects.toThrow('db gone');

    expect(lines.map(({ level, statusCode, msg }) => ({ level, statusCode, msg }))).toEqual([
      { level: 'info', statusCode: 404, msg: 'message failed' },
      { level: 'error', statusCode: 500, msg: 'message failed' },
    ]);
  });

  it('should log health probes at debug', async () => {
    await run(rpcContext('orders.health'), { handle: () => of({ status: 'ok' }) });

    expect(lines[0]).toMatchObject({ level: 'debug', subject: 'orders.health' });
  });

  it('should leave HTTP requests to the HTTP request log', async () => {
    const ctx = new ExecutionContextHost([{ headers: {} }, {}]);
    ctx.setType('http');

    await expect(firstValueFrom(sut.intercept(ctx, { handle: () => of('ok') }))).resolves.toBe(
      'ok',
    );
    await expect(
      firstValueFrom(
        sut.intercept(ctx, { handle: () => throwError(() => new HttpException('x', 418)) }),
      ),
    ).rejects.toBeInstanceOf(HttpException);
    expect(lines).toEqual([]);
  });
});
