import { ValidateBy } from 'class-validator';
import type { ValidationOptions } from 'class-validator';

const LONE_SURROGATE = /\p{Surrogate}/u;

const textRule = (
  name: string,
  accepts: (text: string) => boolean,
  message: string,
  options?: ValidationOptions,
): PropertyDecorator =>
  ValidateBy(
    {
      name,
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || accepts(value),
        defaultMessage: () => message,
      },
    },
    options,
  );

/**
 * The string is well-formed UTF-16 (no lone surrogate). A lone surrogate has no UTF-8 form, so a
 * store or a password hash would be given something other than what was sent.
 */
export const IsWellFormed = (options?: ValidationOptions): PropertyDecorator =>
  textRule(
    'isWellFormed',
    (text) => !LONE_SURROGATE.test(text),
    '$property must be well-formed Unicode text',
    options,
  );

/**
 * Text that every store keeps as sent, for a field that is stored or looked up: well-formed
 * (`IsWellFormed`) and without U+0000, which a PostgreSQL text column cannot hold.
 */
export const IsStorableText = (options?: ValidationOptions): PropertyDecorator =>
  textRule(
    'isStorableText',
    (text) => !LONE_SURROGATE.test(text) && !text.includes('\0'),
    '$property must be well-formed Unicode text without NUL characters',
    options,
  );
