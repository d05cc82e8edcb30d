import { ValidateBy } from 'class-validator';
import type { ValidationOptions } from 'class-validator';

/**
 * The string is text every store keeps as sent: well-formed UTF-16 (no lone surrogate) and no NUL
 * character. Otherwise a store would refuse it, or keep something other than what was acknowledged.
 */
export const IsWellFormed = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isWellFormed',
      validator: {
        // a lone surrogate cannot be stored as UTF-8, nor U+0000 in a PostgreSQL text column
        validate: (value: unknown) =>
          typeof value !== 'string' || !(/\p{Surrogate}/u.test(value) || value.includes('\0')),
        defaultMessage: () => '$property must be well-formed Unicode text without NUL characters',
      },
    },
    options,
  );
