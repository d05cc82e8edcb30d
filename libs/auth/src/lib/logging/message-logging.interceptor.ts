import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import { tap } from 'rxjs';
import { toErrorBody } from '../errors/rpc-error.filter';

/**
 * One line per NATS message a service handles: its subject, outcome and duration. It runs around
 * the call context, so the line carries the message's request id and caller. Health probes are
 * logged at debug: the gateway and the container checks ask often.
 */
export class MessageLoggingInterceptor implements NestInterceptor {
  constructor(private readonly logger: Logger) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'rpc') {
      return next.handle();
    }
    const subject = ctx.switchToRpc().getContext<NatsContext>().getSubject();
    const level = subject.endsWith('.health') ? 'debug' : 'info';
    const started = performance.now();
    const durationMs = () => Math.round((performance.now() - started) * 10) / 10;
    return next.handle().pipe(
      tap({
        complete: () =>
          this.logger[level]({ subject, durationMs: durationMs() }, 'message handled'),
        error: (err: unknown) => {
          const { statusCode } = toErrorBody(err);
          this.logger[statusCode >= 500 ? 'error' : level](
            { subject, statusCode, durationMs: durationMs() },
            'message failed',
          );
        },
      }),
    );
  }
}
