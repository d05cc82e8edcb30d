import { Controller, Inject } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import type { HealthView } from '@baton/contracts';
import { Public } from '../decorators/public.decorator';

/** What a service checks when asked for its health: each dependency, up or not. */
export interface HealthProbe {
  check(): Promise<Record<string, boolean>>;
}

export const HEALTH_PROBE = Symbol('HEALTH_PROBE');

/** A controller that answers `subject` with the service's health (public, for the gateway and operators). */
export function natsHealthController(service: string, subject: string): Type<unknown> {
  @Controller()
  class HealthController {
    constructor(@Inject(HEALTH_PROBE) private readonly probe: HealthProbe) {}

    @Public()
    @MessagePattern(subject)
    async health(): Promise<HealthView> {
      const results = await this.probe.check();
      const checks = Object.fromEntries(
        Object.entries(results).map(([name, up]) => [name, up ? 'up' : 'down'] as const),
      );
      const ok = Object.values(results).every(Boolean);
      return { status: ok ? 'ok' : 'error', service, checks };
    }
  }
  return HealthController;
}
