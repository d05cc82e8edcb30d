import { ValidateBy } from 'class-validator';
import type { ValidationOptions } from 'class-validator';

/**
 * The string is well-formed UTF-16 (no lone surrogate). A lone surrogate cannot be stored as UTF-8,
 * so a store would keep something other than what was acknowledged.
 */
export const IsWellFormed = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isWellFormed',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !/\p{Surrogate}/u.test(value),
        defaultMessage: () => '$property must be well-formed Unicode text',
      },
    },
    options,
  );
