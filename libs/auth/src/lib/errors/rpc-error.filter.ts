import { Catch, HttpException, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { errorBody, isErrorBody } from '@baton/contracts';
import type { ErrorBody } from '@baton/contracts';

/** Turns any exception into the `{statusCode, error, message}` body an HTTP error would carry. */
export function toErrorBody(exception: unknown): ErrorBody {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'string') {
      return errorBody(status, response);
    }
    const { message, retryAfter } = response as { message?: unknown; retryAfter?: unknown };
    const text = Array.isArray(message)
      ? message.join('; ')
      : typeof message === 'string'
        ? message
        : exception.message;
    return errorBody(status, text, typeof retryAfter === 'number' ? retryAfter : undefined);
  }
  if (exception instanceof RpcException) {
    const error = exception.getError();
    if (isErrorBody(error)) {
      return errorBody(error.statusCode, error.message, error.retryAfter);
    }
  }
  return errorBody(500, 'Internal server error');
}

/**
 * The RPC side of error handling: every exception thrown in a NATS handler reaches the caller as
 * `{statusCode, error, message}` so that 400/401/403/404/409 survive the hop.
 */
@Catch()
export class RpcErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('RpcErrorFilter');

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    const body = toErrorBody(exception);
    if (body.statusCode >= 500) {
      const name = exception instanceof Error ? exception.name : typeof exception;
      this.logger.error(
        `Unhandled ${name} in a NATS handler`,
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    return throwError(() => body);
  }
}
