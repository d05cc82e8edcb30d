export * from './lib/store-config';
export * from './lib/column-types';
export * from './lib/data-source';
export * from './lib/store.module';
export * from './lib/transaction';
export * from './lib/database-health.probe';
export * from './lib/sql';
export * from './lib/errors';
