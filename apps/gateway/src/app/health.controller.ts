import { Controller, Get, HttpException } from '@nestjs/common';
import { Subjects } from '@baton/contracts';
import type { HealthView } from '@baton/contracts';
import { BatonClient, Public } from '@baton/auth';

const SERVICES = [
  ['auth', Subjects.auth.health],
  ['orders', Subjects.orders.health],
  ['profile', Subjects.profile.health],
] as const;

interface SystemHealth {
  status: 'ok' | 'error';
  checks: Record<string, 'up' | 'down'>;
}

@Controller()
export class HealthController {
  constructor(private readonly client: BatonClient) {}

  /** 200 when NATS and every service's database answer, 503 otherwise. */
  @Public()
  @Get('health')
  async health(): Promise<SystemHealth> {
    const checks: Record<string, 'up' | 'down'> = {};
    const nc = await this.client.connection().catch(() => undefined);
    checks['nats'] = nc && !nc.isClosed() ? 'up' : 'down';
    await Promise.all(
      SERVICES.map(async ([name, subject]) => {
        const answer = await this.client
          .send<HealthView>(subject, {}, { timeoutMs: 1500 })
          .catch(() => undefined);
        checks[name] = answer?.status === 'ok' ? 'up' : 'down';
      }),
    );
    const ok = Object.values(checks).every((c) => c === 'up');
    if (!ok) {
      throw new HttpException(
        { status: 'error', checks, statusCode: 503, message: 'Some dependencies are down' },
        503,
      );
    }
    return { status: 'ok', checks };
  }
}
