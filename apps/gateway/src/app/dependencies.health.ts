import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import type { HealthView } from '@baton/contracts';
import { BatonClient } from '@baton/auth';

/** Whether the gateway's NATS connection is open. */
@Injectable()
export class NatsHealthIndicator {
  constructor(
    private readonly client: BatonClient,
    private readonly health: HealthIndicatorService,
  ) {}

  async isHealthy(key: string): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    const nc = await this.client.connection().catch(() => undefined);
    return nc && !nc.isClosed() ? indicator.up() : indicator.down({ message: 'not connected' });
  }
}

/**
 * Asks a service for its health over NATS: up when it answers in time with every one of its own
 * checks (its database) up; its checks come along either way.
 */
@Injectable()
export class ServiceHealthIndicator {
  constructor(
    private readonly client: BatonClient,
    private readonly health: HealthIndicatorService,
  ) {}

  async isHealthy(key: string, subject: string, timeoutMs: number): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    let answer: HealthView;
    try {
      answer = await this.client.send<HealthView>(subject, {}, { timeoutMs });
    } catch (err) {
      // "The orders service is unavailable" (no responder) or "… did not answer in time"
      return indicator.down({ message: err instanceof Error ? err.message : 'no answer' });
    }
    return answer.status === 'ok' ? indicator.up(answer.checks) : indicator.down(answer.checks);
  }
}
