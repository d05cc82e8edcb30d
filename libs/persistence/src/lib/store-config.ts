import { join, resolve } from 'node:path';

export type StoreConfig =
  { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; schema: string };

/**
 * Where a service keeps its data. `DATABASE_URL` unset: a SQLite file per service under
 * `DATA_DIR` (default `.data/`). `postgres://…`: that database, with a schema per service.
 */
export function resolveStore(service: string, env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const url = env['DATABASE_URL']?.trim();
  if (!url) {
    const dir = resolve(env['DATA_DIR']?.trim() || '.data');
    return { kind: 'sqlite', file: join(dir, `${service}.sqlite`) };
  }
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new Error('DATABASE_URL must be unset (SQLite) or a postgres:// URL');
  }
  try {
    new URL(url);
  } catch {
    throw new Error('DATABASE_URL is not a valid URL');
  }
  return { kind: 'postgres', url, schema: service.replace(/-/g, '_') };
}

/** A description of the store safe for logs: never the password. */
export function describeStore(store: StoreConfig): string {
  if (store.kind === 'sqlite') {
    return `SQLite ${store.file}`;
  }
  const u = new URL(store.url);
  return `PostgreSQL ${u.hostname}:${u.port || '5432'}${u.pathname} schema "${store.schema}"`;
}
