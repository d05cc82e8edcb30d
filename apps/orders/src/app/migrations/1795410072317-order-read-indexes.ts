import { TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes that hold the reads' whole order: a user's orders by `(created_at, id)`, everyone's (an
 * admin's list) by the same, and an order's items by `position`. Without the tiebreak `id` and
 * `position` in them, every list sorted its rows in a temporary tree, and an admin's list read the
 * whole table.
 */
export class OrderReadIndexes1795410072317 implements MigrationInterface {
  name = 'OrderReadIndexes1795410072317';

  async up(q: QueryRunner): Promise<void> {
    await q.dropIndex('orders', 'ix_orders_user_id_created_at');
    await q.createIndices('orders', [
      new TableIndex({
        name: 'ix_orders_user_id_created_at_id',
        columnNames: ['user_id', 'created_at', 'id'],
      }),
      new TableIndex({ name: 'ix_orders_created_at_id', columnNames: ['created_at', 'id'] }),
    ]);
    await q.dropIndex('order_items', 'ix_order_items_order_id');
    await q.createIndex(
      'order_items',
      new TableIndex({
        name: 'ix_order_items_order_id_position',
        columnNames: ['order_id', 'position'],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('order_items', 'ix_order_items_order_id_position');
    await q.createIndex(
      'order_items',
      new TableIndex({ name: 'ix_order_items_order_id', columnNames: ['order_id'] }),
    );
    await q.dropIndex('orders', 'ix_orders_created_at_id');
    await q.dropIndex('orders', 'ix_orders_user_id_created_at_id');
    await q.createIndex(
      'orders',
      new TableIndex({
        name: 'ix_orders_user_id_created_at',
        columnNames: ['user_id', 'created_at'],
      }),
    );
  }
}
