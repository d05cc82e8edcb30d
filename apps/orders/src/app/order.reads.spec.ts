import { randomUUID } from 'node:crypto';
import type { DataSource, Repository } from 'typeorm';
import type { OrderView } from '@baton/contracts';
import { openDataSource, resolveStore, Sql } from '@baton/persistence';
import { createTestDatabase } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';
import { ORDERS_MIGRATIONS } from './migrations';
import { OrderEntity, OrderItemEntity } from './order.entity';
import { OrderReads } from './order.reads';

/*
 * The hand-written reads against the real store (SQLite, or PostgreSQL when DATABASE_URL is set),
 * checked against what TypeORM's repository returns for the same rows.
 */

const alice = randomUUID();
const bob = randomUUID();

/** What the orders service answered when it read through the repository. */
function viewOf(o: OrderEntity): OrderView {
  return {
    id: o.id,
    userId: o.userId,
    items: [...o.items]
      .sort((a, b) => a.position - b.position)
      .map((i) => ({ sku: i.sku, quantity: i.quantity, unitPrice: i.unitPriceCents / 100 })),
    total: o.totalCents / 100,
    status: o.status,
    shippingAddress: o.shippingAddress,
    createdAt: new Date(o.createdAt).toISOString(),
  };
}

describe(OrderReads.name, () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let repository: Repository<OrderEntity>;
  let sut: OrderReads;
  const start = Date.parse('2026-03-01T10:00:00.000Z');

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await openDataSource({
      store: resolveStore('orders', db.env),
      entities: [OrderEntity, OrderItemEntity],
      migrations: ORDERS_MIGRATIONS,
    });
    repository = dataSource.getRepository(OrderEntity);
    // 14 orders, alternately alice's and bob's, one to four items each, listed out of order
    for (let n = 0; n < 14; n++) {
      const id = randomUUID();
      const items = Array.from({ length: (n % 4) + 1 }, (_, position) => ({
        id: randomUUID(),
        orderId: id,
        position: 3 - position, // stored in reverse, so that only ORDER BY puts them right
        sku: `SKU-${n}-${position}`,
        quantity: position + 1,
        unitPriceCents: 350 + n * 101 + position,
      }));
      await repository.insert({
        id,
        userId: n % 2 ? bob : alice,
        status: 'placed',
        totalCents: items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0) + 2 ** 33,
        shippingAddress: n % 3 ? `${n} Test Road` : null,
        idempotencyKey: null,
        requestHash: null,
        createdAt: new Date(start + ((n * 5) % 14) * 61_123), // all different, out of order
      });
      await dataSource.getRepository(OrderItemEntity).insert(items);
    }
    sut = new OrderReads(new Sql(dataSource));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('should read an order exactly as the repository does, items in their order', async () => {
    const all = await repository.find();
    expect(all).toHaveLength(14);

    for (const order of all) {
      await expect(sut.one(order.id, order.userId)).resolves.toEqual(viewOf(order));
      await expect(sut.one(order.id)).resolves.toEqual(viewOf(order));
    }
  });

  it("should not find another user's order, nor one that does not exist", async () => {
    const [theirs] = await repository.findBy({ userId: bob });

    await expect(sut.one(theirs.id, alice)).resolves.toBeUndefined();
    await expect(sut.one(randomUUID(), alice)).resolves.toBeUndefined();
    await expect(sut.one(randomUUID())).resolves.toBeUndefined();
  });

  it.each([1, 3, 7, 100])(
    "should list a user's newest %i orders as the repository does",
    async (limit) => {
      const expected = await repository.find({
        where: { userId: alice },
        order: { createdAt: 'DESC' },
        take: limit,
      });

      const listed = await sut.list(limit, alice);

      expect(listed).toEqual(expected.map(viewOf));
      expect(listed.every((o) => o.userId === alice)).toBe(true);
    },
  );

  it("should list everyone's newest orders when no user is given (an admin)", async () => {
    const expected = await repository.find({ order: { createdAt: 'DESC' }, take: 9 });

    await expect(sut.list(9)).resolves.toEqual(expected.map(viewOf));
  });

  it('should list orders placed at the same instant in a stable order (newest id first)', async () => {
    const carol = randomUUID();
    const at = new Date(start - 1000);
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) {
      await repository.insert({
        id,
        userId: carol,
        status: 'placed',
        totalCents: 100,
        shippingAddress: null,
        idempotencyKey: null,
        requestHash: null,
        createdAt: at,
      });
      await dataSource.getRepository(OrderItemEntity).insert({
        id: randomUUID(),
        orderId: id,
        position: 0,
        sku: 'TIE',
        quantity: 1,
        unitPriceCents: 100,
      });
    }

    const first = (await sut.list(20, carol)).map((o) => o.id);

    expect(first).toEqual([...ids].sort().reverse());
    expect((await sut.list(2, carol)).map((o) => o.id)).toEqual(first.slice(0, 2));
  });

  it('should list nothing for a user without orders', async () => {
    await expect(sut.list(20, randomUUID())).resolves.toEqual([]);
  });
});
