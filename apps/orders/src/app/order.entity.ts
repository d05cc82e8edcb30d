import { Column, Entity, Index, JoinColumn, ManyToOne, OneToMany, PrimaryColumn } from 'typeorm';
import { timestampColumn, uuidColumn } from '@baton/persistence';
import type { OrderStatus } from '@baton/contracts';

@Entity({ name: 'orders' })
@Index('uq_orders_user_idempotency_key', ['userId', 'idempotencyKey'], { unique: true })
@Index('ix_orders_user_id_created_at_id', ['userId', 'createdAt', 'id'])
@Index('ix_orders_created_at_id', ['createdAt', 'id'])
export class OrderEntity {
  @PrimaryColumn(uuidColumn())
  id: string;

  /** The owner, always taken from the caller's token. */
  @Column({ name: 'user_id', ...uuidColumn() })
  userId: string;

  @Column({ type: 'varchar', length: 16 })
  status: OrderStatus;

  /** In minor units (cents), to keep sums exact. */
  @Column({
    name: 'total_cents',
    type: 'bigint',
    transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) },
  })
  totalCents: number;

  /** Copied from the owner's profile when the order was placed. */
  @Column({ name: 'shipping_address', type: 'varchar', length: 500, nullable: true })
  shippingAddress: string | null;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 128, nullable: true })
  idempotencyKey: string | null;

  /** SHA-256 of the request, to tell a retry from a different order under the same key. */
  @Column({ name: 'request_hash', type: 'varchar', length: 64, nullable: true })
  requestHash: string | null;

  @Column({ name: 'created_at', ...timestampColumn() })
  createdAt: Date;

  @OneToMany(() => OrderItemEntity, (item) => item.order, { cascade: ['insert'], eager: true })
  items: OrderItemEntity[];
}

@Entity({ name: 'order_items' })
@Index('ix_order_items_order_id_position', ['orderId', 'position'])
export class OrderItemEntity {
  @PrimaryColumn(uuidColumn())
  id: string;

  @Column({ name: 'order_id', ...uuidColumn() })
  orderId: string;

  @ManyToOne(() => OrderEntity, (order) => order.items, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'order_id', foreignKeyConstraintName: 'fk_order_items_order_id' })
  order: OrderEntity;

  @Column({ type: 'integer' })
  position: number;

  @Column({ type: 'varchar', length: 64 })
  sku: string;

  @Column({ type: 'integer' })
  quantity: number;

  @Column({ name: 'unit_price_cents', type: 'integer' })
  unitPriceCents: number;
}
