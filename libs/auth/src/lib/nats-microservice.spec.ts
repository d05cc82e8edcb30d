import { Controller, Inject, Module } from '@nestjs/common';
import type { INestMicroservice } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { natsRequest, startNatsServer } from '@baton/testing';
import type { NatsServerHandle } from '@baton/testing';
import { startNatsService } from './nats-microservice';

/*
 * Graceful shutdown of a NATS service on real nats-server: two replicas share a queue group; one
 * is closed (what SIGTERM does) while it handles a request.
 */

const SERVICE = 'drain-test';
const INSTANCE = 'instance name';

/** Requests to `drain-test.slow` wait here until the test lets them go. */
const gate = {
  entered: 0,
  release: () => undefined as void,
  opened: Promise.resolve(),
  close(): void {
    this.opened = new Promise<void>((resolve) => (this.release = resolve));
  },
};

@Controller()
class DrainTestController {
  constructor(@Inject(INSTANCE) private readonly instance: string) {}

  @MessagePattern(`${SERVICE}.slow`)
  async slow(): Promise<{ by: string }> {
    gate.entered++;
    await gate.opened;
    return { by: this.instance };
  }

  @MessagePattern(`${SERVICE}.which`)
  which(): { by: string } {
    return { by: this.instance };
  }
}

const replica = (instance: string) => {
  @Module({
    controllers: [DrainTestController],
    providers: [{ provide: INSTANCE, useValue: instance }],
  })
  class DrainTestModule {}
  return DrainTestModule;
};

describe(startNatsService.name, () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let first: INestMicroservice | undefined;
  let second: INestMicroservice | undefined;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    nats = await startNatsServer();
    process.env['NATS_URL'] = nats.url;
    process.env['LOG_LEVEL'] = 'error';
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    gate.release();
    await first?.close();
    await second?.close();
    await nc?.close();
    await nats?.stop();
    process.env = savedEnv;
  });

  it('should answer the requests it took before closing, while its queue-group peer takes the new ones', async () => {
    first = await startNatsService(SERVICE, replica('first'));
    gate.close();
    const slow = natsRequest(nc, `${SERVICE}.slow`, {}, undefined, 10_000);
    while (gate.entered === 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    second = await startNatsService(SERVICE, replica('second'));

    let closed = false;
    const closing = first.close().then(() => (closed = true));
    // Once first has stopped taking messages (its unsubscribe reached the server), every request
    // goes to second.
    const deadline = Date.now() + 5000;
    while (
      (await natsRequest(nc, `${SERVICE}.which`, {}, undefined, 2000)).response?.by !== 'second'
    ) {
      if (Date.now() > deadline) {
        throw new Error('first never stopped taking new requests');
      }
    }
    const during = await Promise.all(
      Array.from({ length: 20 }, () => natsRequest(nc, `${SERVICE}.which`, {}, undefined, 2000)),
    );
    expect(closed).toBe(false);

    gate.release();
    await expect(slow).resolves.toMatchObject({ response: { by: 'first' } });
    await closing;
    first = undefined;

    expect(during.map((r) => r.response)).toEqual(Array(20).fill({ by: 'second' }));
  }, 30_000);
});
