import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDataSource } from './data-source';

/* A SQLite store on a file of its own, opened as a service's first start and every later one. */

describe('openDataSource on SQLite', () => {
  let dir: string;
  const opened: DataSource[] = [];
  const open = async () => {
    const dataSource = await openDataSource({
      store: { kind: 'sqlite', file: join(dir, 'probe.sqlite') },
      entities: [],
      migrations: [],
    });
    opened.push(dataSource);
    return dataSource;
  };
  const pragma = async (dataSource: DataSource, name: string): Promise<unknown> =>
    Object.values((await dataSource.query(`PRAGMA ${name}`))[0] as object)[0];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-store-'));
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.destroy()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('should sync every commit to disk on a new file and on one already in WAL mode', async () => {
    const first = await open();
    expect(await pragma(first, 'journal_mode')).toBe('wal');
    expect(await pragma(first, 'synchronous')).toBe(2);
    await first.destroy();
    opened.splice(0);

    const reopened = await open();

    expect(await pragma(reopened, 'journal_mode')).toBe('wal');
    expect(await pragma(reopened, 'synchronous')).toBe(2);
  });
});
