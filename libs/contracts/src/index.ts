export * from './lib/subjects';
export * from './lib/headers';
export * from './lib/rpc-error';
export * from './lib/auth.dto';
export * from './lib/profile.dto';
export * from './lib/orders.dto';
export * from './lib/events';
export * from './lib/well-formed.validator';
