/** Message and HTTP headers that travel with every hop. */
export const Headers = {
  authorization: 'authorization',
  requestId: 'x-request-id',
  clientIp: 'x-client-ip',
  idempotencyKey: 'idempotency-key',
} as const;
