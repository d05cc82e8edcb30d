import { Table, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationTypes } from '@baton/persistence';

/** Failed-login counts move from each auth process's memory into the store, shared by replicas. */
export class LoginThrottle1796416875909 implements MigrationInterface {
  name = 'LoginThrottle1796416875909';

  async up(q: QueryRunner): Promise<void> {
    const t = migrationTypes(q.connection.options.type);
    await q.createTable(
      new Table({
        name: 'login_throttle',
        columns: [
          { name: 'key_hash', type: 'varchar', length: '64', isPrimary: true },
          { name: 'failures', type: 'integer' },
          { name: 'window_started_at', type: t.timestamp },
          { name: 'blocked_until', type: t.timestamp },
        ],
        indices: [
          new TableIndex({
            name: 'ix_login_throttle_window_started_at',
            columnNames: ['window_started_at'],
          }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('login_throttle');
  }
}
