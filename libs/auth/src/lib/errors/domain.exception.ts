import { HttpException } from '@nestjs/common';
import { errorBody } from '@baton/contracts';

/**
 * Base of each domain's exception type: a string-enum `code` and the HTTP status it maps to. Being
 * an HttpException, it answers with that status over HTTP and, through `RpcErrorFilter`, over NATS.
 */
export abstract class DomainException<Code extends string> extends HttpException {
  protected constructor(
    readonly code: Code,
    statusCode: number,
    message: string,
    retryAfter?: number,
  ) {
    super(errorBody(statusCode, message, retryAfter), statusCode);
  }
}
