import { Table, TableForeignKey, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationTypes } from '@baton/persistence';

export class InitialOrdersSchema1732300000002 implements MigrationInterface {
  name = 'InitialOrdersSchema1732300000002';

  async up(q: QueryRunner): Promise<void> {
    const t = migrationTypes(q.connection.options.type);
    await q.createTable(
      new Table({
        name: 'orders',
        columns: [
          { name: 'id', type: t.uuid, isPrimary: true },
          { name: 'user_id', type: t.uuid },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'total_cents', type: 'bigint' },
          { name: 'shipping_address', type: 'varchar', length: '500', isNullable: true },
          { name: 'idempotency_key', type: 'varchar', length: '128', isNullable: true },
          { name: 'request_hash', type: 'varchar', length: '64', isNullable: true },
          { name: 'created_at', type: t.timestamp, default: 'CURRENT_TIMESTAMP' },
        ],
        indices: [
          new TableIndex({
            name: 'uq_orders_user_idempotency_key',
            columnNames: ['user_id', 'idempotency_key'],
            isUnique: true,
          }),
          new TableIndex({
            name: 'ix_orders_user_id_created_at',
            columnNames: ['user_id', 'created_at'],
          }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'order_items',
        columns: [
          { name: 'id', type: t.uuid, isPrimary: true },
          { name: 'order_id', type: t.uuid },
          { name: 'position', type: 'integer' },
          { name: 'sku', type: 'varchar', length: '64' },
          { name: 'quantity', type: 'integer' },
          { name: 'unit_price_cents', type: 'integer' },
        ],
        indices: [new TableIndex({ name: 'ix_order_items_order_id', columnNames: ['order_id'] })],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_order_items_order_id',
            columnNames: ['order_id'],
            referencedTableName: 'orders',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('order_items');
    await q.dropTable('orders');
  }
}
