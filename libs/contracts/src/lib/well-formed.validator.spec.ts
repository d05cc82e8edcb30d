import 'reflect-metadata';
import { validateSync } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { LoginDto, RegisterDto } from './auth.dto';
import { UpdateProfileDto } from './profile.dto';

const failures = (dto: object) =>
  validateSync(dto).flatMap((e) =>
    Object.entries(e.constraints ?? {}).map(([rule, message]) => ({
      property: e.property,
      rule,
      message,
    })),
  );

describe('IsWellFormed', () => {
  it('should accept text of any script, emoji and other control characters', () => {
    for (const displayName of ['Ada', 'Ünïcödé', '日本語', '👩‍💻', 'tab\there', 'line\nbreak']) {
      expect(failures(plainToInstance(UpdateProfileDto, { displayName }))).toEqual([]);
    }
  });

  it('should refuse a lone surrogate and a NUL character, naming the field', () => {
    for (const displayName of ['a\ud800b', '\udc00', 'a\u0000b', '\u0000']) {
      expect(failures(plainToInstance(UpdateProfileDto, { displayName }))).toEqual([
        {
          property: 'displayName',
          rule: 'isWellFormed',
          message: 'displayName must be well-formed Unicode text without NUL characters',
        },
      ]);
    }
  });

  it('should guard every free-text field that reaches a store', () => {
    const nul = 'x\u0000y';
    expect(
      failures(plainToInstance(UpdateProfileDto, { shippingAddress: nul })).map((f) => f.property),
    ).toEqual(['shippingAddress']);
    expect(
      failures(plainToInstance(LoginDto, { email: nul, password: nul })).map((f) => f.property),
    ).toEqual(['email', 'password']);
    expect(
      failures(
        plainToInstance(RegisterDto, {
          email: 'ada@example.com',
          password: `${nul}long enough`,
          displayName: nul,
        }),
      ).map((f) => f.property),
    ).toEqual(['password', 'displayName']);
  });
});
