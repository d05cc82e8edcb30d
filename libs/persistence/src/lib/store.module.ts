import { Logger } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptions, openStore } from './data-source';
import { describeStore, resolveStore } from './store-config';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Classes = Function[];

/**
 * The TypeORM root module of one service's own store, its migrations run at start, one process at
 * a time when replicas start together.
 */
export function serviceStoreModule(
  service: string,
  entities: Classes,
  migrations: Classes,
): DynamicModule {
  const store = resolveStore(service);
  return TypeOrmModule.forRootAsync({
    useFactory: () => dataSourceOptions({ store, entities, migrations }),
    dataSourceFactory: async (options) => {
      const dataSource = await openStore(
        store,
        options ?? dataSourceOptions({ store, entities, migrations }),
      );
      new Logger(service).log(`store: ${describeStore(store)}`);
      return dataSource;
    },
  });
}
