import { Logger } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptions, prepareStore } from './data-source';
import { describeStore, resolveStore } from './store-config';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Classes = Function[];

/** The TypeORM root module of one service's own store, its migrations run at start. */
export function serviceStoreModule(
  service: string,
  entities: Classes,
  migrations: Classes,
): DynamicModule {
  const store = resolveStore(service);
  return TypeOrmModule.forRootAsync({
    useFactory: () => dataSourceOptions({ store, entities, migrations }),
    dataSourceFactory: async (options) => {
      await prepareStore(store);
      const dataSource = await new DataSource(
        options ?? dataSourceOptions({ store, entities, migrations }),
      ).initialize();
      new Logger(service).log(`store: ${describeStore(store)}`);
      return dataSource;
    },
  });
}
