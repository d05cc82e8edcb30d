import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import type { Repository } from 'typeorm';
import { Subjects } from '@baton/contracts';
import type { CreateOrderDto, OrderView, ProfileView } from '@baton/contracts';
import { BatonClient } from '@baton/auth';
import { isUniqueViolation, runInTransaction, Sql } from '@baton/persistence';
import type { Principal } from '@baton/auth';
import { OrderEntity, OrderItemEntity } from './order.entity';
import { OrdersErrorCode, OrdersException } from './orders.exception';
import { OrderReads } from './order.reads';

const toCents = (amount: number): number => Math.round(amount * 100);

@Injectable()
export class OrdersService {
  private readonly reads: OrderReads;

  constructor(
    @InjectRepository(OrderEntity) private readonly orders: Repository<OrderEntity>,
    private readonly client: BatonClient,
  ) {
    this.reads = new OrderReads(new Sql(orders.manager.connection));
  }

  /**
   * Places an order for the caller. The shipping address is asked of profile over NATS, as the
   * caller (BatonClient forwards their token). A retry with the same Idempotency-Key returns the
   * first order.
   */
  async create(user: Principal, dto: CreateOrderDto): Promise<OrderView> {
    if (user.sub.startsWith('svc:')) {
      throw new OrdersException(OrdersErrorCode.NotAUser);
    }
    const requestHash = createHash('sha256').update(JSON.stringify(dto.items)).digest('hex');
    if (dto.idempotencyKey) {
      const earlier = await this.replay(user.sub, dto.idempotencyKey, requestHash);
      if (earlier) {
        return earlier;
      }
    }
    const profile = await this.client.send<ProfileView>(Subjects.profile.get, {});
    const id = randomUUID();
    const order = this.orders.create({
      id,
      userId: user.sub,
      status: 'placed',
      totalCents: dto.items.reduce((sum, i) => sum + toCents(i.unitPrice) * i.quantity, 0),
      shippingAddress: profile.shippingAddress,
      idempotencyKey: dto.idempotencyKey ?? null,
      requestHash: dto.idempotencyKey ? requestHash : null,
      createdAt: new Date(),
      items: dto.items.map((item, position) => ({
        id: randomUUID(),
        orderId: id,
        position,
        sku: item.sku,
        quantity: item.quantity,
        unitPriceCents: toCents(item.unitPrice),
      })) as OrderItemEntity[],
    });
    try {
      await runInTransaction(this.orders.manager.connection, async (tx) => {
        await tx.getRepository(OrderEntity).insert(order);
        await tx.getRepository(OrderItemEntity).insert(order.items);
      });
    } catch (err) {
      // A concurrent retry with the same key won the unique index: answer with its order.
      if (isUniqueViolation(err) && dto.idempotencyKey) {
        const earlier = await this.replay(user.sub, dto.idempotencyKey, requestHash);
        if (earlier) {
          return earlier;
        }
      }
      throw err;
    }
    return this.map(order);
  }

  /** The caller's orders (everyone's for an admin), newest first. */
  list(user: Principal, limit = 100): Promise<OrderView[]> {
    return this.reads.list(limit, user.roles.includes('admin') ? undefined : user.sub);
  }

  /** Another user's order is answered exactly like a missing one: 404. */
  async get(user: Principal, id: string): Promise<OrderView> {
    const order = await this.reads.one(id, user.roles.includes('admin') ? undefined : user.sub);
    if (!order) {
      throw new OrdersException(OrdersErrorCode.NotFound);
    }
    return order;
  }

  private async replay(
    userId: string,
    key: string,
    requestHash: string,
  ): Promise<OrderView | undefined> {
    const earlier = await this.orders.findOneBy({ userId, idempotencyKey: key });
    if (!earlier) {
      return undefined;
    }
    if (earlier.requestHash !== requestHash) {
      throw new OrdersException(OrdersErrorCode.IdempotencyKeyReused);
    }
    return this.map(earlier);
  }

  private map(o: OrderEntity): OrderView {
    const items = [...o.items].sort((a, b) => a.position - b.position);
    return {
      id: o.id,
      userId: o.userId,
      items: items.map((i) => ({
        sku: i.sku,
        quantity: i.quantity,
        unitPrice: i.unitPriceCents / 100,
      })),
      total: o.totalCents / 100,
      status: o.status,
      shippingAddress: o.shippingAddress,
      createdAt: new Date(o.createdAt).toISOString(),
    };
  }
}
