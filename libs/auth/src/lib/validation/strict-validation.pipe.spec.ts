import 'reflect-metadata';
import { BadRequestException, ValidationPipe } from '@nestjs/common';
import type { ArgumentMetadata } from '@nestjs/common';
import { CreateOrderDto, ListOrdersDto, OrderIdDto } from '@baton/contracts';
import { StrictValidationPipe, strictValidationPipe } from './strict-validation.pipe';

const OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  forbidUnknownValues: true,
  stopAtFirstError: false,
};

const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({
  type: 'body',
  metatype,
});

/** What a pipe made of a value: the DTO it returned, or the status and body it refused with. */
async function outcome(pipe: ValidationPipe, value: unknown, metadata: ArgumentMetadata) {
  try {
    const result: unknown = await pipe.transform(value, metadata);
    return {
      ok: result,
      type: (result as object | null)?.constructor?.name,
    };
  } catch (err) {
    if (!(err instanceof BadRequestException)) {
      throw err;
    }
    return { status: err.getStatus(), refused: err.getResponse() };
  }
}

const uuid = '5cff67a4-46de-43ac-9abd-d342224be3b6';
const withNullPrototype = (fields: Record<string, unknown>): object =>
  Object.assign(Object.create(null) as object, fields);
/** A record as Fastify's query-string parser makes it: its prototype is an empty null-prototype object. */
const asFastifyQuery = (fields: Record<string, unknown>): object =>
  Object.assign(Object.create(Object.create(null) as object) as object, fields);

/** Each value as a JSON body (or query) would bring it, with the DTO it is validated against. */
const JSON_CASES: [string, unknown, ArgumentMetadata['metatype']][] = [
  ['a valid id', { id: uuid }, OrderIdDto],
  ['an id that is not a UUID', { id: 'nope' }, OrderIdDto],
  ['an id of the wrong type', { id: 7 }, OrderIdDto],
  ['an unknown field', { id: uuid, admin: true }, OrderIdDto],
  ['no field at all', {}, OrderIdDto],
  ['a query limit (null prototype, string)', withNullPrototype({ limit: '20' }), ListOrdersDto],
  ['a query limit out of range', withNullPrototype({ limit: '501' }), ListOrdersDto],
  ['a query limit that is not a number', withNullPrototype({ limit: 'ten' }), ListOrdersDto],
  ['a query limit given twice', withNullPrototype({ limit: ['1', '2'] }), ListOrdersDto],
  ['an empty query', withNullPrototype({}), ListOrdersDto],
  ['a query as Fastify parses it', asFastifyQuery({ limit: '20' }), ListOrdersDto],
  ['a bad query as Fastify parses it', asFastifyQuery({ limit: '0', x: '1' }), ListOrdersDto],
  ['a valid order', { items: [{ sku: 'B-1', quantity: 2, unitPrice: 3.5 }] }, CreateOrderDto],
  [
    'an order with bad items',
    {
      items: [
        { sku: '', quantity: 0, unitPrice: 1.234 },
        { sku: 'ok', quantity: 1, unitPrice: 1, extra: 1 },
        'not an item',
        null,
      ],
      idempotencyKey: ' ',
    },
    CreateOrderDto,
  ],
  ['an order without items', { items: [] }, CreateOrderDto],
  ['an order whose items is an object', { items: { sku: 'B-1' } }, CreateOrderDto],
  [
    'an order nested in an array',
    { items: [[{ sku: 'B-1', quantity: 1, unitPrice: 1 }]] },
    CreateOrderDto,
  ],
];

describe('StrictValidationPipe', () => {
  const strict = strictValidationPipe();
  const nest = new ValidationPipe(OPTIONS);

  it.each(JSON_CASES)(
    'takes a JSON payload (%s) exactly as Nest’s own pipe does',
    async (_name, value, metatype) => {
      const copy = (): unknown => structuredCloneKeepingPrototype(value);
      const nestPath = jest.spyOn(ValidationPipe.prototype, 'transform');
      const ours = await outcome(strict, copy(), body(metatype));
      expect(nestPath).not.toHaveBeenCalled();
      nestPath.mockRestore();
      const theirs = await outcome(nest, copy(), body(metatype));
      expect(ours).toEqual(theirs);
      if ('ok' in ours) {
        expect(ours.ok).toBeInstanceOf(metatype as new () => unknown);
      } else {
        expect(ours.status).toBe(400);
      }
    },
  );

  it('the cases above cover both answers', async () => {
    const outcomes = await Promise.all(
      JSON_CASES.map(([, value, metatype]) => outcome(strict, value, body(metatype))),
    );
    expect(outcomes.filter((o) => 'ok' in o).length).toBeGreaterThanOrEqual(3);
    expect(outcomes.filter((o) => 'refused' in o).length).toBeGreaterThanOrEqual(8);
  });

  it.each([
    ['no payload', undefined],
    ['null', null],
    ['a string', 'a string'],
    ['an array', [{ id: uuid }]],
    ['a sparse array inside', { items: sparse() }],
    ['a class instance', new (class Foreign {})()],
    ['an object on a prototype with members', Object.create({ id: uuid }) as unknown],
    ['a Buffer inside', { id: Buffer.from(uuid) }],
  ])(
    'hands what JSON cannot hold (%s) to Nest’s path and answers as it does',
    async (_n, value) => {
      const nestPath = jest.spyOn(ValidationPipe.prototype, 'transform');
      const ours = await outcome(strict, value, body(OrderIdDto));
      expect(nestPath).toHaveBeenCalledTimes(1);
      nestPath.mockRestore();
      const theirs = await outcome(nest, value, body(OrderIdDto));
      expect(ours).toEqual(theirs);
      expect(ours).toHaveProperty('status', 400);
    },
  );

  it.each([
    ['__proto__', JSON.parse('{"id":"x","__proto__":{"admin":true}}') as unknown],
    ['constructor', { id: uuid, constructor: { prototype: {} } }],
    ['toString', { items: [{ sku: 'B-1', quantity: 1, unitPrice: 1, toString: 1 }] }],
  ])('refuses a key that names a prototype member (%s), at any depth', async (key, value) => {
    await expect(strict.transform(value, body(CreateOrderDto))).rejects.toMatchObject({
      response: { statusCode: 400, message: `property ${key} should not exist` },
    });
  });

  it('turns a validator that throws into 400, not 500', async () => {
    class Throwing extends StrictValidationPipe {
      protected override validate(): never {
        throw new TypeError('validator blew up');
      }
    }
    const pipe = new Throwing(OPTIONS);
    await expect(pipe.transform({ id: uuid }, body(OrderIdDto))).rejects.toMatchObject({
      response: { statusCode: 400, message: 'Request is malformed' },
    });
  });

  it('leaves custom parameters (at once, not in a promise) and primitive types alone', async () => {
    const user = { sub: 'u' };
    expect(strict.transform(user, { type: 'custom', metatype: Object })).toBe(user);
    await expect(strict.transform('42', { type: 'param', metatype: String })).resolves.toBe('42');
  });
});

/** A copy of a test value that keeps a null prototype where it had one. */
function structuredCloneKeepingPrototype(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(structuredCloneKeepingPrototype);
  }
  if (typeof value === 'object' && value !== null) {
    const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<
      string,
      unknown
    >;
    for (const [key, v] of Object.entries(value)) {
      copy[key] = structuredCloneKeepingPrototype(v);
    }
    return copy;
  }
  return value;
}

function sparse(): unknown[] {
  const items: unknown[] = [];
  items[2] = { sku: 'B-1', quantity: 1, unitPrice: 1 };
  return items;
}
