import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { Type } from 'class-transformer';

export class OrderItemDto {
  @ApiProperty({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', example: 'BATON-1' })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    message: 'sku must be 1-64 letters, digits, dots, dashes or underscores',
  })
  sku: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 10_000 })
  @IsInt()
  @Min(1)
  @Max(10_000)
  quantity: number;

  @ApiProperty({ minimum: 0, maximum: 1_000_000, multipleOf: 0.01, example: 12.5 })
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 })
  @Min(0)
  @Max(1_000_000)
  unitPrice: number;
}

export class CreateOrderBodyDto {
  @ApiProperty({ type: [OrderItemDto], minItems: 1, maxItems: 100 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => OrderItemDto)
  items: OrderItemDto[];
}

export class CreateOrderDto extends CreateOrderBodyDto {
  @IsOptional()
  @IsString()
  @Matches(/^[\x21-\x7e]{1,128}$/, {
    message: 'Idempotency-Key must be 1-128 visible ASCII characters',
  })
  idempotencyKey?: string;
}

export class OrderIdDto {
  @IsUUID('4', { message: 'id must be a UUID' })
  id: string;
}

export class ListOrdersDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export type OrderStatus = 'placed';

export interface OrderView {
  id: string;
  userId: string;
  items: { sku: string; quantity: number; unitPrice: number }[];
  total: number;
  status: OrderStatus;
  shippingAddress: string | null;
  createdAt: string;
}
