import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/**
 * Hand-written SQL for the few reads on a hot path, where TypeORM's query builder costs more than
 * the query itself (it rebuilds, re-aliases and re-parses the statement on every call). Tables and
 * columns are named from the entity metadata and quoted for the store's dialect, parameters use the
 * driver's placeholders, and values are read back with TypeORM's own conversions for each column
 * (dates, bigints, transformers), so the rows mean exactly what the entities would.
 */
export class Sql {
  private readonly postgres: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  /** The entity's table, schema-qualified where the store has schemas. */
  table(entity: EntityTarget<ObjectLiteral>): string {
    const { schema, tableName } = this.dataSource.getMetadata(entity);
    const escape = (name: string) => this.dataSource.driver.escape(name);
    return schema ? `${escape(schema)}.${escape(tableName)}` : escape(tableName);
  }

  /** The column that holds `property`, quoted. */
  column(entity: EntityTarget<ObjectLiteral>, property: string): string {
    return this.dataSource.driver.escape(this.metadataOf(entity, property).databaseName);
  }

  /** A reader for `property` of rows that select its column under its own name. */
  reader<T>(entity: EntityTarget<ObjectLiteral>, property: string): (row: ObjectLiteral) => T {
    const column = this.metadataOf(entity, property);
    const name = column.databaseName;
    const driver = this.dataSource.driver;
    return (row) => driver.prepareHydratedValue(row[name], column) as T;
  }

  /** The value to bind for `property` in a statement, as the repository would store it. */
  writer<T>(entity: EntityTarget<ObjectLiteral>, property: string): (value: T) => unknown {
    const column = this.metadataOf(entity, property);
    const driver = this.dataSource.driver;
    return (value) => driver.preparePersistentValue(value, column) as unknown;
  }

  /**
   * A lookup of one row by equality on `properties` (a key), read into an entity as the repository
   * would, for entities without relations: `finder(User, ['id'])(id)`.
   */
  finder<E extends ObjectLiteral>(
    entity: EntityTarget<E>,
    properties: Array<keyof E & string>,
  ): (...values: unknown[]) => Promise<E | undefined> {
    const metadata = this.dataSource.getMetadata(entity);
    if (metadata.relations.length > 0) {
      throw new Error(`${metadata.name} has relations: read it through its repository`);
    }
    const driver = this.dataSource.driver;
    const columns = metadata.columns;
    const statement = [
      `SELECT ${columns.map((c) => driver.escape(c.databaseName)).join(', ')}`,
      `FROM ${this.table(entity)}`,
      `WHERE ${properties.map((p, i) => `${this.column(entity, p)} = ${this.param(i + 1)}`).join(' AND ')}`,
      'LIMIT 1',
    ].join(' ');
    return async (...values) => {
      const [row] = await this.query(statement, values);
      if (!row) {
        return undefined;
      }
      const found = metadata.create() as E;
      for (const column of columns) {
        column.setEntityValue(found, driver.prepareHydratedValue(row[column.databaseName], column));
      }
      return found;
    };
  }

  /** The placeholder of the n-th parameter (from 1). */
  param(n: number): string {
    return this.postgres ? `$${n}` : '?';
  }

  /** Runs a statement written with `param()` placeholders. */
  query(sql: string, parameters: unknown[]): Promise<ObjectLiteral[]> {
    return this.dataSource.query(sql, parameters);
  }

  private metadataOf(entity: EntityTarget<ObjectLiteral>, property: string): ColumnMetadata {
    const column = this.dataSource.getMetadata(entity).findColumnWithPropertyName(property);
    if (!column) {
      throw new Error(`No column for ${String(property)}`);
    }
    return column;
  }
}
