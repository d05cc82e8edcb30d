import { Module } from '@nestjs/common';
import { BatonAuthModule } from '@baton/auth';
import { AdminController } from './admin.controller';
import { AuthController } from './auth.controller';
import { HealthController } from './health.controller';
import { OrdersController } from './orders.controller';
import { ProfileController } from './profile.controller';

@Module({
  imports: [BatonAuthModule.forRoot({ service: 'gateway' })],
  controllers: [
    AuthController,
    ProfileController,
    OrdersController,
    AdminController,
    HealthController,
  ],
})
export class GatewayModule {}
