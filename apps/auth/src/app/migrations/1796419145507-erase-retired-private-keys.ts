import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retired signing keys never sign again, so their private keys go: from now on retiring a key
 * erases it, and this erases those of the keys retired before. Their public JWKs stay.
 */
export class EraseRetiredPrivateKeys1796419145507 implements MigrationInterface {
  name = 'EraseRetiredPrivateKeys1796419145507';

  async up(q: QueryRunner): Promise<void> {
    const schema = (q.connection.options as { schema?: string }).schema;
    const table = schema ? `"${schema}"."signing_keys"` : '"signing_keys"';
    await q.query(`UPDATE ${table} SET private_key = '' WHERE retired_at IS NOT NULL`);
  }

  async down(): Promise<void> {
    // an erased key cannot be brought back
  }
}
