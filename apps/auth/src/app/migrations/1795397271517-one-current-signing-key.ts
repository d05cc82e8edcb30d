import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * At most one current (unretired) signing key, enforced by the store: a partial unique index on
 * the constant `retired_at IS NULL` over the unretired rows, which SQLite and PostgreSQL both
 * support (TypeORM's index API names columns only, hence the SQL). Replicas that once started
 * together may have left several current keys: the newest stays current, as auth already used it,
 * and the others are retired now, so they stay published until their tokens have expired.
 */
export class OneCurrentSigningKey1795397271517 implements MigrationInterface {
  name = 'OneCurrentSigningKey1795397271517';

  async up(q: QueryRunner): Promise<void> {
    const table = signingKeys(q);
    await q.query(
      `UPDATE ${table} SET retired_at = CURRENT_TIMESTAMP WHERE retired_at IS NULL AND kid <> ` +
        `(SELECT kid FROM ${table} WHERE retired_at IS NULL ORDER BY created_at DESC, kid LIMIT 1)`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "uq_signing_keys_current" ON ${table} ((retired_at IS NULL)) ` +
        'WHERE retired_at IS NULL',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    const schema = (q.connection.options as { schema?: string }).schema;
    await q.query(`DROP INDEX ${schema ? `"${schema}".` : ''}"uq_signing_keys_current"`);
  }
}

/** The table's name for raw SQL: schema-qualified on PostgreSQL (a schema per service). */
function signingKeys(q: QueryRunner): string {
  const schema = (q.connection.options as { schema?: string }).schema;
  return schema ? `"${schema}"."signing_keys"` : '"signing_keys"';
}
