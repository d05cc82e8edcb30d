import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CreateOrderDto, ListOrdersDto, OrderIdDto, Subjects } from '@baton/contracts';
import type { OrderView } from '@baton/contracts';
import { CurrentUser, Roles } from '@baton/auth';
import type { Principal } from '@baton/auth';
import { OrdersService } from './orders.service';

@Roles('user', 'admin')
@Controller()
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @MessagePattern(Subjects.orders.create)
  create(@CurrentUser() user: Principal, @Payload() dto: CreateOrderDto): Promise<OrderView> {
    return this.orders.create(user, dto);
  }

  @MessagePattern(Subjects.orders.list)
  list(@CurrentUser() user: Principal, @Payload() dto: ListOrdersDto): Promise<OrderView[]> {
    return this.orders.list(user, dto.limit);
  }

  @MessagePattern(Subjects.orders.get)
  get(@CurrentUser() user: Principal, @Payload() dto: OrderIdDto): Promise<OrderView> {
    return this.orders.get(user, dto.id);
  }
}
