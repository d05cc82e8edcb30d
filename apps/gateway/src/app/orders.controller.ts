import { Body, Controller, Get, Headers, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { CreateOrderBodyDto, Headers as H, ListOrdersDto, Subjects } from '@baton/contracts';
import type { OrderView } from '@baton/contracts';
import { BatonClient } from '@baton/auth';

@Controller('orders')
export class OrdersController {
  constructor(private readonly client: BatonClient) {}

  /** The owner comes from the token; `Idempotency-Key` makes a retry return the first order. */
  @Post()
  create(
    @Body() dto: CreateOrderBodyDto,
    @Headers(H.idempotencyKey) idempotencyKey?: string,
  ): Promise<OrderView> {
    return this.client.send(Subjects.orders.create, { ...dto, idempotencyKey });
  }

  @Get()
  list(@Query() query: ListOrdersDto): Promise<OrderView[]> {
    return this.client.send(Subjects.orders.list, query);
  }

  @Get(':id')
  get(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string): Promise<OrderView> {
    return this.client.send(Subjects.orders.get, { id });
  }
}
