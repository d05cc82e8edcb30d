import { BadRequestException, HttpException, ValidationPipe } from '@nestjs/common';
import type { ArgumentMetadata, Type, ValidationPipeOptions } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import type { ValidatorOptions } from 'class-validator';
import { rememberValidationRules } from './validation-rules.cache';

/** How deep a payload may nest before it is no longer read as plain data. */
const MAX_DEPTH = 32;
/** The `typeof` of the values JSON holds besides objects, arrays and null. */
const JSON_PRIMITIVES = new Set(['string', 'number', 'boolean']);

interface Scan {
  /** The first key that names a prototype member, if any. */
  reserved?: string;
  /** Whether the value is plain JSON data: plain objects, dense arrays and primitives only. */
  json: boolean;
}

/**
 * The prototype of a plain record: `Object.prototype`, none, or an empty object without one (how
 * Fastify's query-string parser makes its records).
 */
function isRecordPrototype(proto: object | null): boolean {
  return (
    proto === Object.prototype ||
    proto === null ||
    (Object.getPrototypeOf(proto) === null && Reflect.ownKeys(proto).length === 0)
  );
}

/**
 * Walks a payload once. A key that names a prototype member (`__proto__`, `constructor`,
 * `toString`…) is never a field of ours; class-transformer would drop it silently, so it is refused
 * like any other unknown field. Whether the payload is plain JSON data decides which way it is
 * validated (`StrictValidationPipe`).
 */
function scan(value: unknown, depth: number, into: Scan): void {
  if (typeof value !== 'object' || value === null) {
    if (value !== null && !JSON_PRIMITIVES.has(typeof value)) {
      into.json = false;
    }
    return;
  }
  if (depth > MAX_DEPTH) {
    into.json = false;
    return;
  }
  const keys = Object.keys(value);
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype || keys.length !== value.length) {
      into.json = false;
    }
  } else if (!isRecordPrototype(Object.getPrototypeOf(value) as object | null)) {
    into.json = false;
  }
  for (const key of keys) {
    if (key === '__proto__' || key === 'prototype' || key in Object.prototype) {
      into.reserved = key;
      return;
    }
    scan((value as Record<string, unknown>)[key], depth + 1, into);
    if (into.reserved !== undefined) {
      return;
    }
  }
}

/**
 * Validation used at every hop: unknown fields are refused, not silently dropped, and a validator
 * that throws on hostile input (a lone surrogate in an email, `1e-7` for a price) is a bad request,
 * not a 500.
 *
 * A payload that is plain JSON data (every request body, query and NATS payload that parsed) is
 * turned into its DTO and validated directly, with the same class-transformer and class-validator
 * options and the same error messages as Nest's pipe. That pipe first guards against what JSON
 * cannot hold (sparse arrays, binary values, class instances, a missing or primitive value); its
 * guards cost twice the validation itself on a small DTO, so anything else, and only that, still
 * takes its path. class-validator's lookup of each DTO's rules is remembered
 * (`rememberValidationRules`).
 */
export class StrictValidationPipe extends ValidationPipe {
  private readonly jsonValidatorOptions: ValidatorOptions = {
    ...this.validatorOptions,
    validationError: { target: false, ...this.validatorOptions.validationError },
  };

  constructor(options?: ValidationPipeOptions) {
    super(options);
    rememberValidationRules();
  }

  /**
   * A custom decorator's value (`@CurrentUser()`) comes back as it is, as from Nest's pipe, but at
   * once rather than in a promise: the pipe runs on every parameter of every handler, and Nest
   * awaits whatever a pipe returns. Everything else is validated, asynchronously.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the base declares a promise; a pipe may return a value
  override transform(value: unknown, metadata: ArgumentMetadata): any {
    if (metadata.type === 'custom' && !this.validateCustomDecorators) {
      return value;
    }
    return this.transformParameter(value, metadata);
  }

  private async transformParameter(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const found: Scan = { json: true };
    if (metadata.type !== 'custom') {
      scan(value, 0, found);
      if (found.reserved !== undefined) {
        throw new BadRequestException(`property ${found.reserved} should not exist`);
      }
    }
    try {
      if (
        found.json &&
        metadata.type !== 'custom' &&
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        metadata.metatype &&
        !this.expectedType &&
        this.toValidate(metadata)
      ) {
        return await this.validateJson(value, metadata.metatype);
      }
      return (await super.transform(value, metadata)) as unknown;
    } catch (err) {
      if (err instanceof HttpException) {
        throw err;
      }
      throw new BadRequestException('Request is malformed');
    }
  }

  private async validateJson(value: object, metatype: Type<unknown>): Promise<object> {
    const entity = plainToInstance(metatype, value, this.transformOptions) as object;
    const errors = await this.validate(entity, this.jsonValidatorOptions);
    if (errors.length > 0) {
      if (this.jsonValidatorOptions.validationError?.value === undefined) {
        this.stripParentErrorValues(errors);
      }
      throw await this.exceptionFactory(errors);
    }
    return entity;
  }
}

export const strictValidationPipe = (): ValidationPipe =>
  new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: false,
  });
