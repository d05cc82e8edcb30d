import { EMAIL_MAX_LENGTH, normalizeEmail } from '@baton/contracts';
import { loadAuthServiceEnv } from './auth.env';

describe('loadAuthServiceEnv: the first admin', () => {
  const password = 'first-admin-password';

  it('should take an admin email that fits once in lower case', () => {
    const email = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(56)}.test`;
    expect(email).toHaveLength(EMAIL_MAX_LENGTH);

    const env = loadAuthServiceEnv({ BATON_ADMIN_EMAIL: email, BATON_ADMIN_PASSWORD: password });

    expect(env.BATON_ADMIN_EMAIL).toBe(email);
  });

  it('should refuse at start an admin email too long to be kept once in lower case', () => {
    // 'İ' lowercases to two characters: an address of 165 is one of 258 as accounts are kept
    const label = 'İ'.repeat(31);
    const email = `${'a'.repeat(64)}@${label}.${label}.${label}.test`;
    expect(email.length).toBeLessThanOrEqual(EMAIL_MAX_LENGTH);
    expect(normalizeEmail(email).length).toBeGreaterThan(EMAIL_MAX_LENGTH);

    expect(() =>
      loadAuthServiceEnv({ BATON_ADMIN_EMAIL: email, BATON_ADMIN_PASSWORD: password }),
    ).toThrow(
      `BATON_ADMIN_EMAIL must be at most ${EMAIL_MAX_LENGTH} characters long in lower case`,
    );
  });
});
