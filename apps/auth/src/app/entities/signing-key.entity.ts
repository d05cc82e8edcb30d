import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '@baton/persistence';

@Entity({ name: 'signing_keys' })
// At most one current key: a partial index on an expression, which TypeORM cannot describe, so it
// is made by its migration and left alone here.
@Index('uq_signing_keys_current', { synchronize: false })
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  kid: string;

  @Column({ type: 'varchar', length: 16 })
  alg: string;

  /** The public JWK, as JSON. */
  @Column({ name: 'public_jwk', type: 'text' })
  publicJwk: string;

  /**
   * PKCS#8 PEM, or `enc:v1:…` when a key-encryption secret is configured; empty once the key is
   * retired, as a retired key never signs again.
   */
  @Column({ name: 'private_key', type: 'text' })
  privateKey: string;

  @Column({ name: 'created_at', ...timestampColumn() })
  createdAt: Date;

  /** Set when a newer key took over signing. */
  @Column({ name: 'retired_at', ...timestampColumn(), nullable: true })
  retiredAt: Date | null;
}
