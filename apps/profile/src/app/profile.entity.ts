import { Column, Entity, PrimaryColumn } from 'typeorm';
import { timestampColumn, uuidColumn } from '@baton/persistence';

@Entity({ name: 'profiles' })
export class ProfileEntity {
  /** The owner's user id: one profile per user. */
  @PrimaryColumn({ name: 'user_id', ...uuidColumn() })
  userId: string;

  @Column({ name: 'display_name', type: 'varchar', length: 100, nullable: true })
  displayName: string | null;

  @Column({ name: 'shipping_address', type: 'varchar', length: 500, nullable: true })
  shippingAddress: string | null;

  @Column({ name: 'created_at', ...timestampColumn() })
  createdAt: Date;

  @Column({ name: 'updated_at', ...timestampColumn() })
  updatedAt: Date;
}
