import type { ColumnType } from 'typeorm';

// Entities are declared once for both stores; the column types that differ are chosen here,
// from the same DATABASE_URL that selects the driver.
const onPostgres = (): boolean => /^postgres(ql)?:\/\//.test(process.env['DATABASE_URL'] ?? '');

export const uuidColumn = (): { type: ColumnType; length?: number } =>
  onPostgres() ? { type: 'uuid' } : { type: 'varchar', length: 36 };

export const timestampColumn = (): { type: ColumnType } =>
  onPostgres() ? { type: 'timestamptz' } : { type: 'datetime' };

/** Column type names for migrations written with TypeORM's Table API. */
export const migrationTypes = (driver: string): { uuid: string; timestamp: string } =>
  driver === 'postgres'
    ? { uuid: 'uuid', timestamp: 'timestamptz' }
    : { uuid: 'varchar(36)', timestamp: 'datetime' };
