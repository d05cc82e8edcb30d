import 'reflect-metadata';
import * as contracts from '@baton/contracts';
import {
  getMetadataStorage,
  IsInt,
  IsString,
  Min,
  MetadataStorage,
  validate,
} from 'class-validator';
import { rememberValidationRules } from './validation-rules.cache';

/** The constraint names validation refused `value` with, by property. */
async function refusals(value: object, groups?: string[]): Promise<Record<string, string[]>> {
  const errors = await validate(value, { forbidUnknownValues: true, groups });
  return Object.fromEntries(errors.map((e) => [e.property, Object.keys(e.constraints ?? {})]));
}

/** class-validator's own lookup, as it is without the wrapper. */
const unwrappedLookup = (target: new () => unknown, always = false, strictGroups = false) =>
  MetadataStorage.prototype.getTargetValidationMetadatas.call(
    getMetadataStorage(),
    target,
    '',
    always,
    strictGroups,
  );

describe(rememberValidationRules.name, () => {
  const storage = getMetadataStorage();

  beforeAll(() => {
    rememberValidationRules();
    rememberValidationRules(); // wrapping twice must not stack
  });

  it('should answer the same lookup with the same remembered rules', () => {
    const first = storage.getTargetValidationMetadatas(contracts.OrderIdDto, '', false, false);
    const again = storage.getTargetValidationMetadatas(contracts.OrderIdDto, '', false, false);

    expect(first.length).toBeGreaterThan(0);
    expect(again).toBe(first);
  });

  it("should find the same rules as class-validator's own lookup for every DTO", () => {
    const dtos = (Object.values(contracts) as unknown[]).filter(
      (v): v is new () => unknown =>
        typeof v === 'function' && unwrappedLookup(v as new () => unknown).length > 0,
    );

    expect(dtos.length).toBeGreaterThan(5);
    for (const dto of dtos) {
      for (const [always, strict] of [
        [false, false],
        [true, false],
        [false, true],
      ]) {
        expect(storage.getTargetValidationMetadatas(dto, '', always, strict)).toEqual(
          unwrappedLookup(dto, always, strict),
        );
      }
    }
  });

  it('should enforce a rule registered after the class was first validated', async () => {
    class Late {
      @IsInt()
      n!: unknown;
    }
    const three = Object.assign(new Late(), { n: 3 });
    expect(await refusals(three)).toEqual({});

    Min(5)(Late.prototype, 'n');

    expect(await refusals(three)).toEqual({ n: ['min'] });
  });

  it('should give a class defined after its parent was validated its own and inherited rules', async () => {
    class Parent {
      @IsString()
      name!: unknown;
    }
    expect(await refusals(Object.assign(new Parent(), { name: 1 }))).toEqual({
      name: ['isString'],
    });

    class Child extends Parent {
      @IsInt()
      age!: unknown;
    }

    expect(await refusals(Object.assign(new Child(), { name: 1, age: 'x' }))).toEqual({
      name: ['isString'],
      age: ['isInt'],
    });
    expect(await refusals(Object.assign(new Parent(), { name: 1, age: 'x' }))).toEqual({
      name: ['isString'],
    });
  });

  it('should still look up rules by validation group, not from what it remembered', async () => {
    class Grouped {
      @IsInt({ groups: ['strict'] })
      @IsString({ groups: ['loose'] })
      v!: unknown;
    }
    const value = Object.assign(new Grouped(), { v: 'text' });

    // without groups, class-validator applies every rule (and the answer is remembered)
    expect(await refusals(value)).toEqual({ v: ['isInt'] });
    expect(await refusals(value, ['loose'])).toEqual({});
    expect(await refusals(value, ['strict'])).toEqual({ v: ['isInt'] });
  });
});
