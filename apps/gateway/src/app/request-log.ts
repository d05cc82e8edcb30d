import type { OutcomeLogger, Principal } from '@baton/auth';

/** What the log line needs of a Fastify request and its reply. */
export interface AnsweredRequest {
  id: string;
  method: string;
  routeOptions: { url?: string };
  /** Set by the guard once the token verified. */
  user?: Principal;
}

export interface Answer {
  statusCode: number;
  elapsedTime: number;
}

/**
 * One line per HTTP request once it is answered: the request id, the caller's `sub` when the token
 * verified, the route (its pattern, never the raw URL, which a client may fill with anything) and
 * the outcome. `/health` is logged at debug while it is up: probes ask often.
 */
export function logRequest(logger: OutcomeLogger, request: AnsweredRequest, reply: Answer): void {
  const route = request.routeOptions.url;
  const level = route === '/health' && reply.statusCode < 500 ? 'debug' : 'info';
  logger.write(
    level,
    {
      requestId: request.id,
      sub: request.user?.sub,
      method: request.method,
      route,
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
    },
    'request completed',
  );
}
