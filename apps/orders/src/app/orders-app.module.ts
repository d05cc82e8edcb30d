import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BatonAuthModule, HEALTH_PROBE, natsHealthController } from '@baton/auth';
import { Subjects } from '@baton/contracts';
import { DatabaseHealthProbe, serviceStoreModule } from '@baton/persistence';
import { InitialOrdersSchema1732300000002 } from './migrations/1732300000002-initial-orders-schema';
import { OrderEntity, OrderItemEntity } from './order.entity';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

const entities = [OrderEntity, OrderItemEntity];

@Module({
  imports: [
    BatonAuthModule.forRoot({ service: 'orders' }),
    serviceStoreModule('orders', entities, [InitialOrdersSchema1732300000002]),
    TypeOrmModule.forFeature(entities),
  ],
  controllers: [OrdersController, natsHealthController('orders', Subjects.orders.health)],
  providers: [{ provide: HEALTH_PROBE, useClass: DatabaseHealthProbe }, OrdersService],
})
export class OrdersAppModule {}
