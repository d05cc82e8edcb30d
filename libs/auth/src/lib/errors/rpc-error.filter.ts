import { Catch, HttpException, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { errorBody, isErrorBody } from '@baton/contracts';
import type { ErrorBody } from '@baton/contracts';
import { recordCallFailure } from '../context/call-context';

/** Network failures of a database driver, and PostgreSQL's "cannot serve you now" codes. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);
/** What node-postgres and its pool say when the connection is gone or cannot be had. */
const UNREACHABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/**
 * True when the error (or the driver error TypeORM wraps in it) says the database cannot be
 * reached, as opposed to a query it refused: the caller may retry, so it is a 503, not a 500.
 */
export function isDatabaseUnreachable(exception: unknown, depth = 0): boolean {
  if (!(exception instanceof Error) || depth > 2) {
    return false;
  }
  const { code, driverError, cause } = exception as Error & {
    code?: unknown;
    driverError?: unknown;
    cause?: unknown;
  };
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) {
    return true; // SQLSTATE class 08: connection exception
  }
  return (
    UNREACHABLE_MESSAGES.test(exception.message) ||
    isDatabaseUnreachable(driverError, depth + 1) ||
    isDatabaseUnreachable(cause, depth + 1)
  );
}

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
  if (isDatabaseUnreachable(exception)) {
    return errorBody(503, 'Database unavailable; try again');
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
    recordCallFailure(body.statusCode);
    if (body.statusCode === 503 && isDatabaseUnreachable(exception)) {
      // Expected while the database is away; one line per request, no stack.
      this.logger.error(`Database unreachable: ${(exception as Error).message}`);
    } else if (body.statusCode >= 500) {
      const name = exception instanceof Error ? exception.name : typeof exception;
      this.logger.error(
        `Unhandled ${name} in a NATS handler`,
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    return throwError(() => body);
  }
}
