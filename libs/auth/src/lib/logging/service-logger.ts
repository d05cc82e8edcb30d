import type { LoggerService, LogLevel } from '@nestjs/common';
import { Logger as NestPinoLogger, PinoLogger } from 'nestjs-pino';
import type { Params } from 'nestjs-pino';
import { pino, stdTimeFunctions } from 'pino';
import type { DestinationStream, Level, Logger } from 'pino';
import { currentCallContext } from '../context/call-context';

const PINO_LEVELS: Record<LogLevel, Level> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** The pino level for a `LOG_LEVEL` value (Nest's names); `info` when unset or unknown. */
export function pinoLevel(level: string | undefined): Level {
  return PINO_LEVELS[level as LogLevel] ?? 'info';
}

/**
 * Fields whose values never reach a log line, whoever logs them: nothing logs them on purpose, this
 * is the net under a mistake (a logged request, message or call context).
 */
export const REDACTED_LOG_PATHS = [
  'authorization',
  'token',
  'accessToken',
  'refreshToken',
  'password',
  'secret',
  '*.authorization',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.password',
  '*.secret',
  'headers.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
];

/** The request id and subject (`sub`) of the request being handled, if any. */
export function callContextLogFields(): { requestId?: string; sub?: string } {
  const ctx = currentCallContext();
  if (!ctx) {
    return {};
  }
  return ctx.principal
    ? { requestId: ctx.requestId, sub: ctx.principal.sub }
    : { requestId: ctx.requestId };
}

export interface ServiceLoggerOptions {
  /** A `LOG_LEVEL` value (`fatal`, `error`, `warn`, `log`, `debug`, `verbose`); default `log`. */
  level?: string;
  /** Where lines go; stdout by default (tests pass a stream). */
  destination?: DestinationStream;
  /** Censor `REDACTED_LOG_PATHS` (default); `false` only for lines whose every field Baton sets. */
  redact?: boolean;
}

/**
 * A JSON logger for one service: every line names the service and, while a request or message is
 * being handled, carries its request id and the caller's `sub` (read from the call context).
 *
 * Lines go to stdout synchronously, as Node writes its own stdout to a pipe or a file on Linux: a
 * line is out before the next statement runs, so a crash loses none. pino's default writes through
 * libuv's thread pool instead, and at one line per request and hop that hand-off and its completion
 * cost the process more than formatting the line.
 */
export function createPinoLogger(service: string, options: ServiceLoggerOptions = {}): Logger {
  return pino(
    {
      level: pinoLevel(options.level),
      base: { service, pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: callContextLogFields,
      ...(options.redact === false
        ? {}
        : { redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' } }),
    },
    options.destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

export interface ServiceLogger {
  /** The pino logger itself, for structured lines (`logger.info({ subject }, 'message handled')`). */
  logger: Logger;
  /** The same logger behind Nest's `LoggerService` (what `new Logger(ctx).log(…)` writes to). */
  nestLogger: LoggerService;
  /**
   * The same output without redaction, for the one line per request or message (subject or route,
   * status, duration, request id, `sub`), whose every field Baton sets and none of which is a
   * payload or a header. Redaction walks its paths on every line and cost that line more than the
   * rest of its formatting.
   */
  outcomeLogger: Logger;
}

/**
 * nestjs-pino's PinoLogger writes to one logger per process (the first it was given) or to the
 * request's own; this one always writes to its own, which carries the call context by itself.
 */
class OwnPinoLogger extends PinoLogger {
  constructor(
    private readonly own: Logger,
    params: Params,
  ) {
    super(params);
  }

  override get logger(): Logger {
    return this.own;
  }
}

/** The process's logger, for Nest (`NestFactory.create(…, { logger: nestLogger })`) and direct use. */
export function createServiceLogger(
  service: string,
  options: ServiceLoggerOptions = {},
): ServiceLogger {
  const destination = options.destination ?? pino.destination({ fd: 1, sync: true });
  const logger = createPinoLogger(service, { ...options, destination });
  const params: Params = { pinoHttp: { logger }, renameContext: 'context' };
  return {
    logger,
    nestLogger: new NestPinoLogger(new OwnPinoLogger(logger, params), params),
    outcomeLogger: createPinoLogger(service, { ...options, destination, redact: false }),
  };
}
