import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BatonAuthModule, HEALTH_PROBE, natsHealthController } from '@baton/auth';
import { Subjects } from '@baton/contracts';
import { DatabaseHealthProbe, serviceStoreModule } from '@baton/persistence';
import { ORDERS_MIGRATIONS } from './migrations';
import { OrderEntity, OrderItemEntity } from './order.entity';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

const entities = [OrderEntity, OrderItemEntity];

@Module({
  imports: [
    BatonAuthModule.forRoot({ service: 'orders' }),
    serviceStoreModule('orders', entities, ORDERS_MIGRATIONS),
    TypeOrmModule.forFeature(entities),
  ],
  controllers: [OrdersController, natsHealthController('orders', Subjects.orders.health)],
  providers: [{ provide: HEALTH_PROBE, useClass: DatabaseHealthProbe }, OrdersService],
})
export class OrdersAppModule {}
