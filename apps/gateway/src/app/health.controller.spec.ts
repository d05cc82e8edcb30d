import { ServiceUnavailableException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { BatonClient } from '@baton/auth';
import type { HealthView } from '@baton/contracts';
import { NatsHealthIndicator, ServiceHealthIndicator } from './dependencies.health';
import { HealthController } from './health.controller';

type Answer = HealthView | Error;

describe(HealthController.name, () => {
  let sut: HealthController;
  let answers: Record<string, Answer>;
  let natsClosed: boolean;
  let reply: { status: jest.Mock };

  const up = (service: string): HealthView => ({
    status: 'ok',
    service,
    checks: { database: 'up' },
  });

  beforeEach(async () => {
    answers = {
      'auth.health': up('auth'),
      'orders.health': up('orders'),
      'profile.health': up('profile'),
    };
    natsClosed = false;
    reply = { status: jest.fn() };
    const client = {
      connection: () => Promise.resolve({ isClosed: () => natsClosed }),
      send: (subject: string) => {
        const answer = answers[subject];
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
    };
    const module = await Test.createTestingModule({
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        NatsHealthIndicator,
        ServiceHealthIndicator,
        { provide: BatonClient, useValue: client },
      ],
    }).compile();
    module.useLogger(false);
    sut = module.get(HealthController);
  });

  const check = () => sut.check(reply as unknown as FastifyReply);

  it('should report NATS and every service with its database, and leave the status at 200', async () => {
    await expect(check()).resolves.toEqual({
      status: 'ok',
      checks: { nats: 'up', auth: 'up', orders: 'up', profile: 'up' },
      details: {
        nats: { status: 'up' },
        auth: { status: 'up', database: 'up' },
        orders: { status: 'up', database: 'up' },
        profile: { status: 'up', database: 'up' },
      },
    });
    expect(reply.status).not.toHaveBeenCalled();
  });

  it('should answer 503 with every check when a service answers with its database down', async () => {
    answers['orders.health'] = { status: 'error', service: 'orders', checks: { database: 'down' } };

    const report = await check();

    expect(reply.status).toHaveBeenCalledWith(503);
    expect(report).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Some dependencies are down',
      status: 'error',
      checks: { nats: 'up', auth: 'up', orders: 'down', profile: 'up' },
      details: { orders: { status: 'down', database: 'down' }, auth: { status: 'up' } },
    });
  });

  it('should say why a service that does not answer is down', async () => {
    answers['profile.health'] = new ServiceUnavailableException(
      'The profile service did not answer in time',
    );

    const report = await check();

    expect(reply.status).toHaveBeenCalledWith(503);
    expect(report.details['profile']).toEqual({
      status: 'down',
      message: 'The profile service did not answer in time',
    });
    expect(report.checks['profile']).toBe('down');
  });

  it('should answer 503 when the NATS connection is closed', async () => {
    natsClosed = true;

    const report = await check();

    expect(reply.status).toHaveBeenCalledWith(503);
    expect(report.checks).toMatchObject({ nats: 'down' });
  });
});
