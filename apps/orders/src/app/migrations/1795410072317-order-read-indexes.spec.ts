import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { openDataSource, resolveStore } from '@baton/persistence';
import type { StoreConfig } from '@baton/persistence';
import { createTestDatabase } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';
import { InitialOrdersSchema1732300000002 } from './1732300000002-initial-orders-schema';
import { OrderReadIndexes1795410072317 } from './1795410072317-order-read-indexes';

/*
 * The read indexes added to a store that already holds orders, on the real store (SQLite, or
 * PostgreSQL when DATABASE_URL is set): the orders stay, and a page of a user's orders, an admin's
 * page and an order's items are read by index in their order, with no sort.
 */

const user = randomUUID();
const orderIds = [randomUUID(), randomUUID()];

describe(OrderReadIndexes1795410072317.name, () => {
  let db: TestDatabase;
  let store: StoreConfig;
  let dataSource: DataSource;
  let table: (name: string) => string;

  /** Each index's columns, sorted (TypeORM reads PostgreSQL's out of order; the plans below show theirs). */
  const indices = async () => {
    const runner = dataSource.createQueryRunner();
    try {
      const of = async (name: string) =>
        Object.fromEntries(
          ((await runner.getTable(name))?.indices ?? []).map((i) => [
            i.name,
            [...i.columnNames].sort(),
          ]),
        );
      return { orders: await of('orders'), items: await of('order_items') };
    } finally {
      await runner.release();
    }
  };

  /** The store's plan for `sql`, as text; PostgreSQL is told to use an index where it can. */
  const planOf = async (sql: string, parameters: unknown[]): Promise<string> => {
    if (store.kind === 'sqlite') {
      const rows = await dataSource.query<{ detail: string }[]>(
        `EXPLAIN QUERY PLAN ${sql}`,
        parameters,
      );
      return rows.map((r) => r.detail).join('\n');
    }
    // a handful of rows would be read by a scan whatever the indexes: ask for a plan without one
    return dataSource.transaction(async (m) => {
      await m.query('SET LOCAL enable_seqscan = off');
      const rows = await m.query<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${sql}`, parameters);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
  };
  const param = (n: number) => (store.kind === 'postgres' ? `$${n}` : '?');

  beforeAll(async () => {
    db = await createTestDatabase();
    store = resolveStore('orders', db.env);
    table = (name) => (store.kind === 'postgres' ? `${store.schema}.${name}` : name);
    const before = await openDataSource({
      store,
      entities: [],
      migrations: [InitialOrdersSchema1732300000002],
    });
    for (const [n, id] of orderIds.entries()) {
      await before
        .createQueryBuilder()
        .insert()
        .into(table('orders'), ['id', 'user_id', 'status', 'total_cents', 'created_at'])
        .values({ id, user_id: user, status: 'placed', total_cents: 100, created_at: new Date() })
        .execute();
      await before
        .createQueryBuilder()
        .insert()
        .into(table('order_items'), [
          'id',
          'order_id',
          'position',
          'sku',
          'quantity',
          'unit_price_cents',
        ])
        .values({
          id: randomUUID(),
          order_id: id,
          position: 0,
          sku: `SKU-${n}`,
          quantity: 1,
          unit_price_cents: 100,
        })
        .execute();
    }
    await before.destroy();
    dataSource = await openDataSource({
      store,
      entities: [],
      migrations: [InitialOrdersSchema1732300000002, OrderReadIndexes1795410072317],
    });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('should index orders by user, time and id, by time and id, and items by order and position', async () => {
    const { orders, items } = await indices();

    expect(orders).toMatchObject({
      ix_orders_user_id_created_at_id: ['created_at', 'id', 'user_id'],
      ix_orders_created_at_id: ['created_at', 'id'],
      uq_orders_user_idempotency_key: ['idempotency_key', 'user_id'],
    });
    expect(orders).not.toHaveProperty('ix_orders_user_id_created_at');
    expect(items).toMatchObject({ ix_order_items_order_id_position: ['order_id', 'position'] });
    expect(items).not.toHaveProperty('ix_order_items_order_id');
    const [{ n }] = await dataSource.query<{ n: number | string }[]>(
      `SELECT COUNT(*) AS n FROM ${table('orders')} WHERE user_id = ${param(1)}`,
      [user],
    );
    expect(Number(n)).toBe(2);
  });

  it.each([
    [
      "a user's page of orders",
      (t: typeof table) =>
        `SELECT id FROM ${t('orders')} WHERE user_id = ${param(1)} ORDER BY created_at DESC, id DESC LIMIT 20`,
      [user],
      'ix_orders_user_id_created_at_id',
    ],
    [
      "an admin's page of orders",
      (t: typeof table) =>
        `SELECT id FROM ${t('orders')} ORDER BY created_at DESC, id DESC LIMIT 20`,
      [],
      'ix_orders_created_at_id',
    ],
    [
      "an order's items",
      (t: typeof table) =>
        `SELECT sku FROM ${t('order_items')} WHERE order_id = ${param(1)} ORDER BY position`,
      [orderIds[0]],
      'ix_order_items_order_id_position',
    ],
  ])('should read %s by index, without sorting', async (_what, sql, parameters, index) => {
    const plan = await planOf(sql(table), parameters);

    expect(plan).toContain(index);
    expect(plan).not.toMatch(/TEMP B-TREE|Sort/);
  });

  it('should be undone to the first indexes without losing orders, and applied again', async () => {
    await dataSource.undoLastMigration();
    const undone = await indices();
    expect(undone.orders).toHaveProperty('ix_orders_user_id_created_at');
    expect(undone.orders).not.toHaveProperty('ix_orders_created_at_id');
    expect(undone.items).toHaveProperty('ix_order_items_order_id');
    const [{ n }] = await dataSource.query<{ n: number | string }[]>(
      `SELECT COUNT(*) AS n FROM ${table('order_items')}`,
    );
    expect(Number(n)).toBe(2);

    await dataSource.runMigrations();
    expect((await indices()).orders).toHaveProperty('ix_orders_user_id_created_at_id');
  });
});
