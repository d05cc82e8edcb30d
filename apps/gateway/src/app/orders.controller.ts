import { Body, Controller, Get, Headers, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { CreateOrderBodyDto, Headers as H, ListOrdersDto, Subjects } from '@baton/contracts';
import type { OrderView } from '@baton/contracts';
import { BatonClient } from '@baton/auth';
import { ApiErrors, ApiSignedIn } from './openapi/api-docs.decorators';
import { OrderViewSchema } from './openapi/views.schema';

@ApiTags('orders')
@ApiSignedIn()
@ApiErrors(503)
@Controller('orders')
export class OrdersController {
  constructor(private readonly client: BatonClient) {}

  /** The owner comes from the token; `Idempotency-Key` makes a retry return the first order. */
  @ApiOperation({
    summary: 'Place an order for the caller, shipped to the address in their profile',
  })
  @ApiHeader({
    name: H.idempotencyKey,
    required: false,
    description: 'A retry with the same key returns the first order instead of placing another.',
  })
  @ApiCreatedResponse({ type: OrderViewSchema })
  @ApiErrors(400)
  @Post()
  create(
    @Body() dto: CreateOrderBodyDto,
    @Headers(H.idempotencyKey) idempotencyKey?: string,
  ): Promise<OrderView> {
    return this.client.send(Subjects.orders.create, { ...dto, idempotencyKey });
  }

  @ApiOperation({ summary: "The caller's orders, newest first; an admin sees everyone's" })
  @ApiOkResponse({ type: [OrderViewSchema] })
  @ApiErrors(400)
  @Get()
  list(@Query() query: ListOrdersDto): Promise<OrderView[]> {
    return this.client.send(Subjects.orders.list, query);
  }

  @ApiOperation({ summary: 'One order of the caller (any order, for an admin)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: OrderViewSchema })
  @ApiErrors([400, 'id is not a UUID'], [404, "No such order, or another user's"])
  @Get(':id')
  get(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string): Promise<OrderView> {
    return this.client.send(Subjects.orders.get, { id });
  }
}
