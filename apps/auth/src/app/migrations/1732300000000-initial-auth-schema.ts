import { Table, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationTypes } from '@baton/persistence';

export class InitialAuthSchema1732300000000 implements MigrationInterface {
  name = 'InitialAuthSchema1732300000000';

  async up(q: QueryRunner): Promise<void> {
    const t = migrationTypes(q.connection.options.type);
    const now = { default: 'CURRENT_TIMESTAMP' };
    await q.createTable(
      new Table({
        name: 'users',
        columns: [
          { name: 'id', type: t.uuid, isPrimary: true },
          { name: 'email', type: 'varchar', length: '254' },
          { name: 'password_hash', type: 'varchar', length: '255' },
          { name: 'roles', type: 'text' },
          { name: 'created_at', type: t.timestamp, ...now },
          { name: 'updated_at', type: t.timestamp, ...now },
        ],
        indices: [
          new TableIndex({ name: 'uq_users_email', columnNames: ['email'], isUnique: true }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'signing_keys',
        columns: [
          { name: 'kid', type: 'varchar', length: '64', isPrimary: true },
          { name: 'alg', type: 'varchar', length: '16' },
          { name: 'public_jwk', type: 'text' },
          { name: 'private_key', type: 'text' },
          { name: 'created_at', type: t.timestamp, ...now },
          { name: 'retired_at', type: t.timestamp, isNullable: true },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { name: 'id', type: t.uuid, isPrimary: true },
          { name: 'user_id', type: t.uuid },
          { name: 'created_at', type: t.timestamp, ...now },
          { name: 'expires_at', type: t.timestamp },
          { name: 'revoked_at', type: t.timestamp, isNullable: true },
          { name: 'revoked_reason', type: 'varchar', length: '64', isNullable: true },
        ],
        indices: [new TableIndex({ name: 'ix_sessions_user_id', columnNames: ['user_id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'refresh_tokens',
        columns: [
          { name: 'id', type: t.uuid, isPrimary: true },
          { name: 'session_id', type: t.uuid },
          { name: 'user_id', type: t.uuid },
          { name: 'token_hash', type: 'varchar', length: '64' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'created_at', type: t.timestamp, ...now },
          { name: 'expires_at', type: t.timestamp },
        ],
        indices: [
          new TableIndex({
            name: 'uq_refresh_tokens_hash',
            columnNames: ['token_hash'],
            isUnique: true,
          }),
          new TableIndex({ name: 'ix_refresh_tokens_session_id', columnNames: ['session_id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          { name: 'id', type: t.uuid, isPrimary: true },
          { name: 'type', type: 'varchar', length: '32' },
          { name: 'user_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'session_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'request_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'client_ip', type: 'varchar', length: '64', isNullable: true },
          { name: 'detail', type: 'text', isNullable: true },
          { name: 'created_at', type: t.timestamp, ...now },
        ],
        indices: [
          new TableIndex({ name: 'ix_audit_events_created_at', columnNames: ['created_at'] }),
          new TableIndex({ name: 'ix_audit_events_user_id', columnNames: ['user_id'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['audit_events', 'refresh_tokens', 'sessions', 'signing_keys', 'users']) {
      await q.dropTable(table);
    }
  }
}
