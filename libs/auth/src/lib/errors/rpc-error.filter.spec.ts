import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  HttpStatus,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { QueryFailedError } from 'typeorm';
import { DomainException } from './domain.exception';
import { RemoteException } from './remote.exception';
import { RpcErrorFilter, toErrorBody } from './rpc-error.filter';

/** An error as Node's net module or node-postgres raise it: a message and a `code`. */
const withCode = (message: string, code: string): Error =>
  Object.assign(new Error(message), { code });

class OrderException extends DomainException<'ORDER_NOT_FOUND' | 'RATE_LIMITED'> {
  static notFound(): OrderException {
    return new OrderException('ORDER_NOT_FOUND', 404, 'Order not found');
  }

  static rateLimited(): OrderException {
    return new OrderException('RATE_LIMITED', 429, 'Slow down', 30);
  }
}

describe('toErrorBody', () => {
  const sut = toErrorBody;

  it('should keep the status and message of a Nest HTTP exception', () => {
    expect(sut(new UnauthorizedException('Invalid or missing access token'))).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Invalid or missing access token',
    });
    expect(sut(new ForbiddenException())).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Forbidden',
    });
  });

  it('should use a string response as the message', () => {
    expect(sut(new HttpException('Teapot says no', 418))).toEqual({
      statusCode: 418,
      error: 'Error',
      message: 'Teapot says no',
    });
  });

  it('should join the messages of a validation error into one string', () => {
    const validation = new BadRequestException([
      'items must be an array',
      'email must be an email',
    ]);

    expect(sut(validation)).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'items must be an array; email must be an email',
    });
  });

  it('should carry a numeric retryAfter from the response body', () => {
    const tooMany = new HttpException({ message: 'Too many attempts', retryAfter: 12 }, 429);

    expect(sut(tooMany)).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Too many attempts',
      retryAfter: 12,
    });
  });

  it('should drop a retryAfter that is not a number', () => {
    const body = sut(new HttpException({ message: 'Later', retryAfter: 'soon' }, 503));

    expect(body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Later' });
    expect(body).not.toHaveProperty('retryAfter');
  });

  it("should fall back to the exception's own message when the body has none", () => {
    const exception = new HttpException({ detail: 'no message field' }, HttpStatus.CONFLICT);

    expect(sut(exception)).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: exception.message,
    });
  });

  it('should keep the status, message and retryAfter of a domain exception', () => {
    expect(sut(OrderException.notFound())).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Order not found',
    });
    expect(sut(OrderException.rateLimited())).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Slow down',
      retryAfter: 30,
    });
  });

  it('should pass on the body of an error another service answered with', () => {
    const remote = new RemoteException({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Not yours',
    });

    expect(sut(remote)).toEqual({ statusCode: 403, error: 'Forbidden', message: 'Not yours' });
  });

  it('should keep an RpcException that carries an error body', () => {
    const rpc = new RpcException({
      statusCode: 404,
      error: 'Not Found',
      message: 'No such user',
      retryAfter: 3,
    });

    expect(sut(rpc)).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'No such user',
      retryAfter: 3,
    });
  });

  it.each([
    ['an RpcException with a plain string', new RpcException('database password is hunter2')],
    ['a plain Error', new Error('ECONNREFUSED 10.0.0.5:5432')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a thrown string', 'boom'],
    ['undefined', undefined],
    ['an object that only looks like an HTTP error', { status: 401, message: 'x' }],
  ])('should answer 500 without leaking the details of %s', (_label, exception) => {
    expect(sut(exception)).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal server error',
    });
  });
});

describe('toErrorBody for a database that cannot be reached', () => {
  const sut = toErrorBody;
  const unavailable = {
    statusCode: 503,
    error: 'Service Unavailable',
    message: 'Database unavailable; try again',
  };

  it.each([
    [
      'the pool cannot connect (ECONNREFUSED)',
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    ],
    ['the connection was reset', withCode('read ECONNRESET', 'ECONNRESET')],
    ['node-postgres lost the connection', new Error('Connection terminated unexpectedly')],
    ['the pool timed out connecting', new Error('timeout exceeded when trying to connect')],
    [
      'PostgreSQL is shutting down (57P01)',
      withCode('terminating connection due to administrator command', '57P01'),
    ],
    ['a connection exception (SQLSTATE class 08)', withCode('connection failure', '08006')],
    [
      'a query TypeORM wrapped after the connection dropped',
      new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly')),
    ],
    [
      'a query TypeORM wrapped after a refused connection',
      new QueryFailedError(
        'SELECT 1',
        [],
        withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      ),
    ],
  ])('should answer 503 "Database unavailable" when %s', (_label, exception) => {
    expect(sut(exception)).toEqual(unavailable);
  });

  it.each([
    ['a unique violation', new QueryFailedError('INSERT', [], withCode('duplicate key', '23505'))],
    ['a syntax error', withCode('syntax error at or near "SELEC"', '42601')],
    ['a message that merely mentions ECONNREFUSED', new Error('ECONNREFUSED 10.0.0.5:5432')],
  ])('should still answer 500 for %s', (_label, exception) => {
    expect(sut(exception).statusCode).toBe(500);
  });
});

describe(RpcErrorFilter.name, () => {
  let sut: RpcErrorFilter;
  let logged: jest.SpyInstance;
  const host = {} as ArgumentsHost;

  beforeEach(() => {
    sut = new RpcErrorFilter();
    logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('should answer the caller with the error body (so NATS carries the status)', async () => {
    await expect(
      firstValueFrom(
        sut.catch(new ForbiddenException('You do not have the role this needs'), host),
      ),
    ).rejects.toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'You do not have the role this needs',
    });
  });

  it('should not log refusals the caller caused (4xx)', async () => {
    await firstValueFrom(sut.catch(new UnauthorizedException(), host)).catch(() => undefined);

    expect(logged).not.toHaveBeenCalled();
  });

  it('should log unexpected errors (5xx) with their stack, but answer only a generic message', async () => {
    const bug = new TypeError('x is undefined');

    await expect(firstValueFrom(sut.catch(bug, host))).rejects.toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal server error',
    });
    expect(logged).toHaveBeenCalledWith('Unhandled TypeError in a NATS handler', bug.stack);
  });

  it('should log an unreachable database in one line, without a stack', async () => {
    const refused = withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED');

    await expect(firstValueFrom(sut.catch(refused, host))).rejects.toMatchObject({
      statusCode: 503,
    });
    expect(logged).toHaveBeenCalledWith(
      'Database unreachable: connect ECONNREFUSED 127.0.0.1:5432',
    );
  });

  it('should log a 503 it passes on', async () => {
    await firstValueFrom(
      sut.catch(
        new ServiceUnavailableException('Revocation list not available yet; try again'),
        host,
      ),
    ).catch(() => undefined);

    expect(logged).toHaveBeenCalledTimes(1);
  });
});
