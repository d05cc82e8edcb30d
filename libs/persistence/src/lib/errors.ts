import { QueryFailedError } from 'typeorm';

/** PostgreSQL's unique_violation, and SQLite's codes for a unique index or primary key refusing a row. */
const UNIQUE_VIOLATION = new Set([
  '23505',
  'SQLITE_CONSTRAINT_UNIQUE',
  'SQLITE_CONSTRAINT_PRIMARYKEY',
]);

/**
 * Whether the store refused a write because a unique index already holds the value: the one failure
 * a caller may answer as "already exists". Any other failed query (a value too long, a NOT NULL
 * column, a lost connection) is not a conflict and must not be reported as one.
 */
export function isUniqueViolation(err: unknown): boolean {
  if (!(err instanceof QueryFailedError)) {
    return false;
  }
  const code = (err.driverError as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && UNIQUE_VIOLATION.has(code);
}
