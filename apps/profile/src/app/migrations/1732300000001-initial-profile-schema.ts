import { Table } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationTypes } from '@baton/persistence';

export class InitialProfileSchema1732300000001 implements MigrationInterface {
  name = 'InitialProfileSchema1732300000001';

  async up(q: QueryRunner): Promise<void> {
    const t = migrationTypes(q.connection.options.type);
    await q.createTable(
      new Table({
        name: 'profiles',
        columns: [
          { name: 'user_id', type: t.uuid, isPrimary: true },
          { name: 'display_name', type: 'varchar', length: '100', isNullable: true },
          { name: 'shipping_address', type: 'varchar', length: '500', isNullable: true },
          { name: 'created_at', type: t.timestamp, default: 'CURRENT_TIMESTAMP' },
          { name: 'updated_at', type: t.timestamp, default: 'CURRENT_TIMESTAMP' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('profiles');
  }
}
