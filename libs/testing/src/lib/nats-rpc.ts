import { headers as natsHeaders, JSONCodec } from 'nats';
import type { NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';

const codec = JSONCodec<unknown>();

export interface RpcReply<T = any> {
  /** The error body (`{statusCode, error, message}`) when the service refused. */
  err?: { statusCode: number; error: string; message: string } | null;
  response?: T;
}

/**
 * Sends one request the way a NestJS NATS client does (`{pattern, data, id}`), with an optional
 * bearer token in the `authorization` message header, and returns the service's raw reply.
 */
export async function natsRequest<T = any>(
  nc: NatsConnection,
  subject: string,
  data: unknown,
  token?: string,
  timeoutMs = 5000,
): Promise<RpcReply<T>> {
  const h = natsHeaders();
  h.set('x-request-id', randomUUID());
  if (token !== undefined) {
    h.set('authorization', `Bearer ${token}`);
  }
  const msg = await nc.request(
    subject,
    codec.encode({ pattern: subject, data, id: randomUUID() }),
    {
      headers: h,
      timeout: timeoutMs,
    },
  );
  return codec.decode(msg.data) as RpcReply<T>;
}
