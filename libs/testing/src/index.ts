export * from './lib/free-port';
export * from './lib/nats-server';
export * from './lib/test-database';
export * from './lib/system';
export * from './lib/token-factory';
export * from './lib/http';
export * from './lib/nats-rpc';
export * from './lib/service-db';
