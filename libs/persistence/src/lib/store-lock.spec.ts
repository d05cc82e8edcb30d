import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, holdStore, queryServiceDb, workspaceRoot } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';

/*
 * Several processes open one empty store at the same moment (SQLite file, or PostgreSQL schema
 * when DATABASE_URL is set), as replicas of a service do: each runs the migrations and then a
 * one-time set-up that checks and then creates, slowly. The store is held shut until every process
 * stands at it, then released. The processes run the compiled library (`npm run build`).
 */

const SERVICE = 'lock-probe';
const PROCESSES = 3;

/** One process: open the store, make its single `probe_items` row unless there is one. */
const CHILD = `
const { Table, TableColumn } = require('typeorm');
const { openDataSource, resolveStore, runExclusive } = require('@baton/persistence');

class ProbeItems1700000000001 {
  name = 'ProbeItems1700000000001';
  async up(q) {
    await q.createTable(new Table({
      name: 'probe_items',
      columns: [{ name: 'id', type: 'integer', isPrimary: true }, { name: 'made_by', type: 'integer' }],
    }));
  }
  async down(q) { await q.dropTable('probe_items'); }
}

// on SQLite, adding a column rebuilds the table
class ProbeItemsNote1700000000002 {
  name = 'ProbeItemsNote1700000000002';
  async up(q) {
    await q.addColumn('probe_items', new TableColumn({ name: 'note', type: 'varchar', length: '20', isNullable: true }));
  }
  async down(q) { await q.dropColumn('probe_items', 'note'); }
}

(async () => {
  const store = resolveStore('${SERVICE}');
  const ds = await openDataSource({ store, entities: [], migrations: [ProbeItems1700000000001, ProbeItemsNote1700000000002] });
  const table = store.kind === 'postgres' ? '"' + store.schema + '"."probe_items"' : '"probe_items"';
  const params = store.kind === 'postgres' ? '($1, $2)' : '(?, ?)';
  const made = await runExclusive(ds, async (tx) => {
    const [{ n }] = await tx.query('SELECT COUNT(*) AS n FROM ' + table);
    if (Number(n) > 0) return false;
    await new Promise((r) => setTimeout(r, 100)); // a slow set-up: whoever comes next must wait
    await tx.query('INSERT INTO ' + table + ' (id, made_by) VALUES ' + params, [1, process.pid]);
    return true;
  });
  await ds.destroy();
  console.log(JSON.stringify({ made }));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

interface Outcome {
  code: number | null;
  output: string;
}

function startChild(root: string, env: Record<string, string>): Promise<Outcome> {
  const child = spawn(
    process.execPath,
    ['-r', join(root, 'tools/scripts/register-paths.cjs'), '-e', CHILD],
    { cwd: root, env: { PATH: process.env['PATH'], ...env } },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('openDataSource and runExclusive, in processes starting at once', () => {
  let db: TestDatabase;
  let outcomes: Outcome[];

  beforeAll(async () => {
    const root = workspaceRoot();
    if (!existsSync(join(root, 'dist/libs/persistence/src/index.js'))) {
      throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    }
    db = await createTestDatabase();
    const gate = await holdStore(db, SERVICE);
    const running = Promise.all(Array.from({ length: PROCESSES }, () => startChild(root, db.env)));
    try {
      await Promise.race([gate.waiting(PROCESSES), running]);
    } finally {
      await gate.release();
    }
    outcomes = await running;
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('should open the store in every process', () => {
    expect(outcomes.filter((o) => o.code !== 0).map((o) => o.output)).toEqual([]);
  });

  it('should run each migration once', async () => {
    const rows = await queryServiceDb<{ name: string }>(
      db,
      SERVICE,
      'SELECT name FROM migrations ORDER BY id',
    );
    expect(rows.map((r) => r.name)).toEqual([
      'ProbeItems1700000000001',
      'ProbeItemsNote1700000000002',
    ]);
  });

  it('should let one process make the one-time set-up, and show it to the others', async () => {
    const said = (line: string) => outcomes.filter((o) => o.output.includes(line)).length;
    expect(said('{"made":true}')).toBe(1);
    expect(said('{"made":false}')).toBe(PROCESSES - 1);
    expect(await queryServiceDb(db, SERVICE, 'SELECT id FROM probe_items')).toEqual([{ id: 1 }]);
  });
});
