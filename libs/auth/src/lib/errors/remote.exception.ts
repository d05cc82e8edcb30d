import { HttpException } from '@nestjs/common';
import type { ErrorBody } from '@baton/contracts';

/** An error answered by another service, re-thrown with the same status and body. */
export class RemoteException extends HttpException {
  constructor(readonly body: ErrorBody) {
    super(body, body.statusCode);
  }
}
