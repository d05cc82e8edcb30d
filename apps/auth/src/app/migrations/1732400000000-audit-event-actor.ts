import { TableColumn, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Audit events record who caused them: the verified caller's `sub`. Earlier events have none. */
export class AuditEventActor1732400000000 implements MigrationInterface {
  name = 'AuditEventActor1732400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn(
      'audit_events',
      new TableColumn({ name: 'actor_id', type: 'varchar', length: '64', isNullable: true }),
    );
    await q.createIndex(
      'audit_events',
      new TableIndex({ name: 'ix_audit_events_actor_id', columnNames: ['actor_id'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('audit_events', 'ix_audit_events_actor_id');
    await q.dropColumn('audit_events', 'actor_id');
  }
}
