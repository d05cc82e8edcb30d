import 'reflect-metadata';
import { validateSync } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { AuditQueryDto, EMAIL_MAX_LENGTH, normalizeEmail, RegisterDto } from './auth.dto';

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

describe('AuditQueryDto since', () => {
  const sinceBroken = (since: string) =>
    validateSync(plainToInstance(AuditQueryDto, { since })).flatMap((e) =>
      Object.values(e.constraints ?? {}),
    );

  it.each([
    '2026-12-01T00:00:00Z',
    '2026-12-01T00:00:00.123+01:00',
    '2026-12-01T00:00:00-05:30',
    '2026-02-28T23:59:59.999Z',
  ])('should take %s', (since) => {
    expect(sinceBroken(since)).toEqual([]);
  });

  it.each([
    ['a week date', '2026-W01'],
    ['an ordinal date', '2026-100'],
    ['a signed year', '-9999-01-01T00:00:00Z'],
    ['a time without its offset', '2026-12-01T00:00:00'],
    ['a date alone', '2026-12-01'],
    ['a day the calendar does not have', '2026-02-30T00:00:00Z'],
    ['a leap second', '2026-12-31T23:59:60Z'],
    ['a word', 'yesterday'],
  ])('should refuse %s', (_label, since) => {
    expect(sinceBroken(since)).toEqual([
      'since must be an RFC 3339 date and time with its offset, such as 2026-12-01T00:00:00Z',
    ]);
  });
});
