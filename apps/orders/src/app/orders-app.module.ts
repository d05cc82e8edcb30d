import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BatonAuthModule } from '@baton/auth';
import { serviceStoreModule } from '@baton/persistence';
import { HealthController } from './health.controller';
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
  controllers: [OrdersController, HealthController],
  providers: [OrdersService],
})
export class OrdersAppModule {}
