import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BatonAuthModule, validateConfig } from '@baton/auth';
import { AdminController } from './admin.controller';
import { AuthController } from './auth.controller';
import { GatewayEnv } from './gateway.env';
import { NatsHealthIndicator, ServiceHealthIndicator } from './dependencies.health';
import { HealthController } from './health.controller';
import { OrdersController } from './orders.controller';
import { ProfileController } from './profile.controller';

@Module({
  imports: [
    BatonAuthModule.forRoot({ service: 'gateway' }),
    // The controller logs what is down itself, in one line.
    TerminusModule.forRoot({ logger: false }),
  ],
  controllers: [
    AuthController,
    ProfileController,
    OrdersController,
    AdminController,
    HealthController,
  ],
  providers: [
    NatsHealthIndicator,
    ServiceHealthIndicator,
    { provide: GatewayEnv, useFactory: () => validateConfig(GatewayEnv) },
  ],
})
export class GatewayModule {}
