import { DomainException } from '@baton/auth';

export enum OrdersErrorCode {
  NotFound = 'ORDER_NOT_FOUND',
  IdempotencyKeyReused = 'IDEMPOTENCY_KEY_REUSED',
  NotAUser = 'NOT_A_USER',
}

const statusOf: Record<OrdersErrorCode, number> = {
  [OrdersErrorCode.NotFound]: 404,
  [OrdersErrorCode.IdempotencyKeyReused]: 409,
  [OrdersErrorCode.NotAUser]: 400,
};

const messageOf: Record<OrdersErrorCode, string> = {
  [OrdersErrorCode.NotFound]: 'Order not found',
  [OrdersErrorCode.IdempotencyKeyReused]: 'This Idempotency-Key was used for a different order',
  [OrdersErrorCode.NotAUser]: 'Only users place orders',
};

export class OrdersException extends DomainException<OrdersErrorCode> {
  constructor(code: OrdersErrorCode) {
    super(code, statusOf[code], messageOf[code]);
  }
}
