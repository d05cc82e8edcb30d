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
  return UNIQUE_VIOLATION.has(driverErrorCode(err));
}

/** The driver's code for a failed query (`SQLITE_BUSY`, `23505`), or '' for any other error. */
export function driverErrorCode(err: unknown): string {
  const code =
    err instanceof QueryFailedError
      ? (err.driverError as { code?: unknown } | undefined)?.code
      : undefined;
  return typeof code === 'string' ? code : '';
}
