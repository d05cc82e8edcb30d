import 'reflect-metadata';
import { validateSync } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { EMAIL_MAX_LENGTH, normalizeEmail, RegisterDto } from './auth.dto';

const password = 'long enough password';
const rulesBroken = (email: string) =>
  validateSync(plainToInstance(RegisterDto, { email, password })).flatMap((e) =>
    Object.keys(e.constraints ?? {}),
  );

describe('RegisterDto email', () => {
  // 'İ' (U+0130) is one character in upper case and two in lower case: 'i' and a combining dot.
  const dotted = `${'İ'.repeat(32)}@${'İ'.repeat(62)}.${'İ'.repeat(62)}.test`;

  it('should refuse a valid email that is too long once in lower case, as accounts keep it', () => {
    expect(dotted.length).toBeLessThanOrEqual(EMAIL_MAX_LENGTH);
    expect(normalizeEmail(dotted).length).toBeGreaterThan(EMAIL_MAX_LENGTH);
    expect(rulesBroken(dotted)).toEqual(['fitsOnceNormalized']);
    expect(
      validateSync(plainToInstance(RegisterDto, { email: dotted, password }))[0].constraints,
    ).toEqual({ fitsOnceNormalized: 'email must be at most 254 characters long in lower case' });
  });

  it('should take a valid email whose lower case fits', () => {
    expect(rulesBroken(`${'İ'.repeat(20)}@example.test`)).toEqual([]);
    expect(rulesBroken('Ada.Lovelace@Example.COM')).toEqual([]);
  });
});

describe('normalizeEmail', () => {
  it('should trim and lower-case', () => {
    expect(normalizeEmail('  Ada@Example.COM ')).toBe('ada@example.com');
  });
});
