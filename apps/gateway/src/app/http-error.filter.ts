import { Catch, HttpException, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '@baton/contracts';
import { toErrorBody } from '@baton/auth';

interface FastifyError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/**
 * Every HTTP error as `{statusCode, error, message}`: errors from this process, errors that came back
 * from a service over NATS (same status), and Fastify's own (bad JSON, body too large).
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  /** @param bodyLimitBytes the gateway's body limit, named in the 413 answer. */
  constructor(private readonly bodyLimitBytes?: number) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const body = this.bodyOf(exception);
    if (body.statusCode >= 500 && !(exception instanceof HttpException)) {
      this.logger.error(
        `Unhandled error on ${request.method} ${request.routeOptions?.url ?? '?'}`,
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    if (body.statusCode === 401) {
      const presented = typeof request.headers.authorization === 'string';
      void reply.header('WWW-Authenticate', presented ? 'Bearer error="invalid_token"' : 'Bearer');
    }
    if (body.retryAfter !== undefined) {
      void reply.header('Retry-After', String(body.retryAfter));
    }
    void reply
      .status(body.statusCode)
      .send({ statusCode: body.statusCode, error: body.error, message: body.message });
  }

  private bodyOf(exception: unknown) {
    const fastify = exception as FastifyError;
    const status = exception instanceof HttpException ? exception.getStatus() : fastify?.statusCode;
    // Nest hands Fastify's body-limit error over as an HttpException whose message omits the limit.
    if (status === 413 && this.bodyLimitBytes !== undefined) {
      const limit = this.bodyLimitBytes;
      return errorBody(413, `Request body is larger than the limit of ${limit} bytes`);
    }
    if (exception instanceof HttpException) {
      return toErrorBody(exception);
    }
    if (
      typeof fastify?.statusCode === 'number' &&
      fastify.statusCode >= 400 &&
      fastify.statusCode < 500
    ) {
      return errorBody(fastify.statusCode, fastify.message ?? 'Bad request');
    }
    return errorBody(500, 'Internal server error');
  }
}
