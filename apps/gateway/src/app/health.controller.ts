import { Controller, Get, Logger, Res, ServiceUnavailableException } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import type { HealthCheckResult, HealthIndicatorResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { errorBody, Subjects } from '@baton/contracts';
import type { ErrorBody } from '@baton/contracts';
import { Public } from '@baton/auth';
import { NatsHealthIndicator, ServiceHealthIndicator } from './dependencies.health';
import { HealthReportSchema } from './openapi/views.schema';

const SERVICES = [
  ['auth', Subjects.auth.health],
  ['orders', Subjects.orders.health],
  ['profile', Subjects.profile.health],
] as const;

const SERVICE_TIMEOUT_MS = 1500;

export interface HealthReport extends Partial<ErrorBody> {
  status: HealthCheckResult['status'];
  /** NATS and each service, `up` or `down`. */
  checks: Record<string, 'up' | 'down'>;
  /** Each dependency's own report (a service's database, why it is down). */
  details: HealthIndicatorResult;
}

@ApiTags('health')
@Controller()
export class HealthController {
  private readonly logger = new Logger(HealthController.name);

  constructor(
    private readonly health: HealthCheckService,
    private readonly nats: NatsHealthIndicator,
    private readonly services: ServiceHealthIndicator,
  ) {}

  /** 200 when NATS and every service with its database answer; 503, with the same report, otherwise. */
  @ApiOperation({ summary: 'NATS and each service with its database' })
  @ApiOkResponse({ type: HealthReportSchema, description: 'Every dependency is up' })
  @ApiServiceUnavailableResponse({ type: HealthReportSchema, description: 'Some are down' })
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @Public()
  @Get('health')
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthReport> {
    const result = await this.health
      .check([
        () => this.nats.isHealthy('nats'),
        ...SERVICES.map(
          ([name, subject]) =>
            () =>
              this.services.isHealthy(name, subject, SERVICE_TIMEOUT_MS),
        ),
      ])
      // Terminus reports a failed check as a 503 exception that holds the same result.
      .catch((err: unknown) => {
        if (err instanceof ServiceUnavailableException) {
          return err.getResponse() as HealthCheckResult;
        }
        throw err;
      });
    const checks: HealthReport['checks'] = {};
    for (const name of ['nats', ...SERVICES.map(([service]) => service)]) {
      checks[name] = result.details[name]?.status === 'up' ? 'up' : 'down';
    }
    if (result.status === 'ok') {
      return { status: result.status, checks, details: result.details };
    }
    const down = Object.keys(checks).filter((name) => checks[name] === 'down');
    this.logger.warn(
      `health: ${down.length ? down.join(', ') : 'the gateway'} down (${result.status})`,
    );
    void reply.status(503);
    return {
      ...errorBody(503, 'Some dependencies are down'),
      status: result.status,
      checks,
      details: result.details,
    };
  }
}
