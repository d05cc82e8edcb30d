import type { ObjectLiteral } from 'typeorm';
import type { OrderView } from '@baton/contracts';
import type { Sql } from '@baton/persistence';
import { OrderEntity, OrderItemEntity } from './order.entity';

/**
 * The two reads behind `GET /orders/:id` and `GET /orders`, as one statement each (the order with
 * its items, in item order), written once per store dialect at start: TypeORM's query builder
 * spent more on building the statement than SQLite spent running it.
 */
export class OrderReads {
  private readonly oneSql: string;
  private readonly oneOfUserSql: string;
  private readonly listSql: string;
  private readonly listOfUserSql: string;
  private readonly read: {
    id: (row: ObjectLiteral) => string;
    userId: (row: ObjectLiteral) => string;
    status: (row: ObjectLiteral) => OrderView['status'];
    totalCents: (row: ObjectLiteral) => number;
    shippingAddress: (row: ObjectLiteral) => string | null;
    createdAt: (row: ObjectLiteral) => Date;
    sku: (row: ObjectLiteral) => string | null;
    quantity: (row: ObjectLiteral) => number;
    unitPriceCents: (row: ObjectLiteral) => number;
  };

  constructor(private readonly sql: Sql) {
    const o = (property: string) => `o.${sql.column(OrderEntity, property)}`;
    const i = (property: string) => `i.${sql.column(OrderItemEntity, property)}`;
    const orders = sql.table(OrderEntity);
    const select = [
      ...['id', 'userId', 'status', 'totalCents', 'shippingAddress', 'createdAt'].map(o),
      ...['sku', 'quantity', 'unitPriceCents'].map(i),
    ].join(', ');
    const items = `LEFT JOIN ${sql.table(OrderItemEntity)} i ON ${i('orderId')} = ${o('id')}`;
    this.oneSql = `SELECT ${select} FROM ${orders} o ${items} WHERE ${o('id')} = ${sql.param(1)} ORDER BY ${i('position')}`;
    this.oneOfUserSql = `SELECT ${select} FROM ${orders} o ${items} WHERE ${o('id')} = ${sql.param(1)} AND ${o('userId')} = ${sql.param(2)} ORDER BY ${i('position')}`;
    // LIMIT takes an expression, not the bare parameter: SQLite (built with STAT4, as
    // better-sqlite3 is) prepared the whole statement again on every run when its LIMIT was a
    // parameter. A page of one order took 17 µs that way, 5 µs this way.
    const newest = (where: string, limitParam: number) =>
      `(SELECT * FROM ${orders} o ${where} ORDER BY ${o('createdAt')} DESC, ${o('id')} DESC LIMIT CAST(${sql.param(limitParam)} AS INTEGER)) o`;
    const order = `ORDER BY ${o('createdAt')} DESC, ${o('id')} DESC, ${i('position')}`;
    this.listSql = `SELECT ${select} FROM ${newest('', 1)} ${items} ${order}`;
    this.listOfUserSql = `SELECT ${select} FROM ${newest(`WHERE ${o('userId')} = ${sql.param(1)}`, 2)} ${items} ${order}`;
    this.read = {
      id: sql.reader(OrderEntity, 'id'),
      userId: sql.reader(OrderEntity, 'userId'),
      status: sql.reader(OrderEntity, 'status'),
      totalCents: sql.reader(OrderEntity, 'totalCents'),
      shippingAddress: sql.reader(OrderEntity, 'shippingAddress'),
      createdAt: sql.reader(OrderEntity, 'createdAt'),
      sku: sql.reader(OrderItemEntity, 'sku'),
      quantity: sql.reader(OrderItemEntity, 'quantity'),
      unitPriceCents: sql.reader(OrderItemEntity, 'unitPriceCents'),
    };
  }

  /** One order, or undefined; only among `userId`'s orders when given. */
  async one(id: string, userId?: string): Promise<OrderView | undefined> {
    const rows = userId
      ? await this.sql.query(this.oneOfUserSql, [id, userId])
      : await this.sql.query(this.oneSql, [id]);
    return this.views(rows)[0];
  }

  /** The newest `limit` orders, `userId`'s only when given. */
  async list(limit: number, userId?: string): Promise<OrderView[]> {
    const rows = userId
      ? await this.sql.query(this.listOfUserSql, [userId, limit])
      : await this.sql.query(this.listSql, [limit]);
    return this.views(rows);
  }

  /** Rows of orders joined with their items, in order, as views. */
  private views(rows: ObjectLiteral[]): OrderView[] {
    const views: OrderView[] = [];
    let current: OrderView | undefined;
    for (const row of rows) {
      const id = this.read.id(row);
      if (current?.id !== id) {
        current = {
          id,
          userId: this.read.userId(row),
          items: [],
          total: this.read.totalCents(row) / 100,
          status: this.read.status(row),
          shippingAddress: this.read.shippingAddress(row),
          createdAt: this.read.createdAt(row).toISOString(),
        };
        views.push(current);
      }
      const sku = this.read.sku(row);
      if (sku !== null && sku !== undefined) {
        current.items.push({
          sku,
          quantity: this.read.quantity(row),
          unitPrice: this.read.unitPriceCents(row) / 100,
        });
      }
    }
    return views;
  }
}
