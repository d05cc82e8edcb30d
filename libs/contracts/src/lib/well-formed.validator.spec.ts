import 'reflect-metadata';
import { validateSync } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { LoginDto, RegisterDto } from './auth.dto';
import { UserRegisteredEvent } from './events';
import { UpdateProfileDto } from './profile.dto';

const failures = (dto: object) =>
  validateSync(dto).flatMap((e) =>
    Object.entries(e.constraints ?? {}).map(([rule, message]) => ({
      property: e.property,
      rule,
      message,
    })),
  );
const failed = (dto: object) => failures(dto).map((f) => f.property);

describe('IsStorableText', () => {
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
          rule: 'isStorableText',
          message: 'displayName must be well-formed Unicode text without NUL characters',
        },
      ]);
    }
  });

  it('should guard every free-text field that is stored or looked up', () => {
    const nul = 'x\u0000y';
    expect(failed(plainToInstance(UpdateProfileDto, { shippingAddress: nul }))).toEqual([
      'shippingAddress',
    ]);
    expect(failed(plainToInstance(LoginDto, { email: nul, password: 'a password' }))).toEqual([
      'email',
    ]);
    expect(
      failed(
        plainToInstance(RegisterDto, {
          email: 'ada@example.com',
          password: 'long enough password',
          displayName: nul,
        }),
      ),
    ).toEqual(['displayName']);
    expect(
      failed(
        plainToInstance(UserRegisteredEvent, {
          userId: '6f1c2b9e-0d3a-4c5e-9f7a-1b2c3d4e5f60',
          displayName: nul,
        }),
      ),
    ).toEqual(['displayName']);
  });
});

describe('IsWellFormed', () => {
  // A password is only hashed, never stored or looked up: a NUL in it is harmless, and refusing one
  // at login would lock out whoever chose it.
  it('should take a password with a NUL character, at registration and at login', () => {
    const password = 'long enough\u0000password';
    expect(failures(plainToInstance(RegisterDto, { email: 'ada@example.com', password }))).toEqual(
      [],
    );
    expect(failures(plainToInstance(LoginDto, { email: 'ada@example.com', password }))).toEqual([]);
  });

  it('should refuse a password with a lone surrogate, which has no UTF-8 form to hash', () => {
    expect(
      failures(plainToInstance(LoginDto, { email: 'ada@example.com', password: 'pass\ud800word' })),
    ).toEqual([
      {
        property: 'password',
        rule: 'isWellFormed',
        message: 'password must be well-formed Unicode text',
      },
    ]);
  });
});
