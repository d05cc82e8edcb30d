// Compares this checkout's build with another's on one route.
//   npm exec -- node -r ./tools/scripts/register-paths.cjs tools/bench/compare.cjs <other checkout> [route]
// The other checkout must be built (`npm run build` there). Each side runs its own nats-server and
// services; every round loads both at once with half the connections each, so whatever else the
// machine is doing slows both alike, and reports the CPU time per request of each side's services
// and nats-server. Run one after the other, the same build moved by 25% between runs on this
// machine; run side by side, the ratio between two builds moved by a few percent.
// With BENCH_ALONE=1, each round loads each side alone instead, one after the other (which goes
// first alternates), and reports their req/s and how many cores each kept busy: loaded together,
// each side fills the cores the other leaves idle, which hides a change to how well a build keeps
// them busy.
// BENCH_DURATION (seconds per round, default 3), BENCH_ROUNDS (default 9), BENCH_CONNECTIONS
// (per side, default 5; 10 with BENCH_ALONE). BENCH_OTHER_NODE: the `node` the other checkout's
// services run on, for one installed for another Node.js (this side's runs on this one's).
const { existsSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const {
  createTestDatabase,
  startNatsServer,
  startSystem,
  workspaceRoot,
} = require('@baton/testing');
const { busyCores, median } = require('./bench-utils.cjs');
const { loadSideBySide, routesFor, seed } = require('./system-load.cjs');

const DURATION = Number(process.env.BENCH_DURATION || 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 9);
const ALONE = process.env.BENCH_ALONE === '1';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || (ALONE ? 10 : 5));
const SERVICES = ['gateway', 'auth', 'orders', 'profile'];

const load = (sides, duration = DURATION) =>
  loadSideBySide(sides, { connections: CONNECTIONS, duration });

/** One round: both sides at once, or with BENCH_ALONE each alone, in an order that alternates. */
async function loadRound(sides, round) {
  if (!ALONE) {
    return load(sides);
  }
  const order = round % 2 === 0 ? [0, 1] : [1, 0];
  const measured = [];
  for (const j of order) {
    [measured[j]] = await load([sides[j]]);
  }
  return measured;
}

async function side(root, route, node) {
  const nats = await startNatsServer();
  const db = await createTestDatabase();
  const logDir = mkdtempSync(join(tmpdir(), 'baton-compare-logs-'));
  const cleanup = async (system) => {
    await system?.stop();
    await db.drop();
    await nats.stop();
    rmSync(logDir, { recursive: true, force: true });
  };
  let system;
  try {
    system = await startSystem({
      root,
      node,
      natsUrl: nats.url,
      storeEnv: db.env,
      logDir,
      env: { ACCESS_TOKEN_TTL: '3600' },
    });
    const routes = routesFor(await seed(system.gatewayUrl));
    const found = routes.find((r) => r.name === route);
    if (!found) {
      throw new Error(`unknown route "${route}": one of ${routes.map((r) => r.name).join(', ')}`);
    }
    const request = found.request(system.gatewayUrl);
    const pids = {
      ...Object.fromEntries(SERVICES.map((s) => [s, system.pid(s)])),
      nats: nats.process.pid,
    };
    await load([{ pids, request }], 1); // warm-up
    return { root, request, pids, rounds: [], stop: () => cleanup(system) };
  } catch (err) {
    await cleanup(system);
    throw err;
  }
}

async function main() {
  const [otherArg, route = 'GET /orders/:id'] = process.argv.slice(2);
  const other = otherArg && resolve(otherArg);
  if (!other || !existsSync(join(other, 'dist', 'apps', 'gateway', 'src', 'main.js'))) {
    throw new Error('usage: compare.cjs <other checkout, built> [route]');
  }
  const sides = [];
  try {
    sides.push(await side(other, route, process.env.BENCH_OTHER_NODE || undefined));
    sides.push(await side(workspaceRoot(), route));
    for (let i = 0; i < ROUNDS; i++) {
      const measured = await loadRound(sides, i);
      sides.forEach((s, j) => {
        if (measured[j].failed > 0) {
          throw new Error(`${s.root}: ${measured[j].failed} failed requests`);
        }
        s.rounds.push(measured[j]);
      });
    }
    const how = ALONE ? 'each side alone, in turn' : 'both sides at once';
    console.log(
      `${route}: ${ROUNDS} rounds of ${DURATION} s, ${CONNECTIONS} connections per side, ${how}`,
    );
    console.log('CPU µs per request (services, nats-server and load generator), medians:');
    for (const s of sides) {
      const m = (f) => Math.round(median(s.rounds.map(f)));
      const parts = [...SERVICES, 'nats', 'load'].map((k) => `${k} ${m((r) => r.perRequest[k])}`);
      const cores = median(s.rounds.map(busyCores)).toFixed(2);
      console.log(
        `  ${s.root}: total ${m((r) => r.total)} (${parts.join(', ')}), ${m((r) => r.rps)} req/s, ${cores} cores busy`,
      );
    }
    const perRound = (f) => sides[1].rounds.map((r, i) => f(r) / f(sides[0].rounds[i]));
    const line = (what, ratios) =>
      console.log(
        `this checkout ÷ other, ${what}, per round: ${ratios.map((x) => x.toFixed(2)).join(' ')}; median ${median(ratios).toFixed(3)}`,
      );
    line(
      'CPU time per request',
      perRound((r) => r.total),
    );
    if (ALONE) {
      line(
        'req/s',
        perRound((r) => r.rps),
      );
    }
  } finally {
    for (const s of sides) {
      await s.stop();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
