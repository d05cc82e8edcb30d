// Revocation: how long after a logout response every service refuses the token (median, p99 over
// many logouts, measured from outside by polling each service), what the revocation check costs
// per verification, and how soon a service's copy is current again after the NATS node holding
// the bucket's leader is killed.
const { connect } = require('nats');
const { randomUUID } = require('node:crypto');
const { RevocationStore } = require('@baton/auth');
const { REVOCATION_BUCKET } = require('@baton/contracts');
const {
  createTestDatabase,
  HttpClient,
  natsRequest,
  startNatsCluster,
  startNatsServer,
  startSystem,
  workspaceRoot,
} = require('@baton/testing');
const { median, nsPerOp, percentile, writeResults } = require('./bench-utils.cjs');

const RUNS = Number(process.env.BENCH_REVOCATION_RUNS || 200);
const RECOVERY_RUNS = Number(process.env.BENCH_RECOVERY_RUNS ?? 5);

function revocationCheckCost() {
  const store = new RevocationStore({ accessTokenTtl: 900 });
  const until = Math.floor(Date.now() / 1000) + 900;
  for (let i = 0; i < 100_000; i++) {
    store.revoked.sid.set(randomUUID(), until);
  }
  const probes = Array.from({ length: 1024 }, () => [randomUUID(), randomUUID()]);
  return nsPerOp((i) => store.isRevoked(probes[i & 1023][0], probes[i & 1023][1]), 2_000_000);
}

async function refusedWithin(nc, subject, token, deadlineMs) {
  const start = process.hrtime.bigint();
  for (;;) {
    const reply = await natsRequest(nc, subject, {}, token);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (reply.err && reply.err.statusCode === 401) {
      return elapsed;
    }
    if (elapsed > deadlineMs) {
      return Infinity;
    }
  }
}

async function propagation() {
  const nats = await startNatsServer();
  const db = await createTestDatabase();
  const system = await startSystem({ natsUrl: nats.url, storeEnv: db.env });
  const nc = await connect({ servers: nats.url });
  const http = new HttpClient(system.gatewayUrl);
  try {
    const user = { email: 'bench@example.test', password: 'bench-password-1' };
    await http.post('/auth/register', user);
    const worst = [];
    const perService = { gateway: [], orders: [], profile: [] };
    for (let i = 0; i < RUNS; i++) {
      const { accessToken } = (await http.post('/auth/login', user)).body;
      const out = await http.post('/auth/logout', {}, accessToken);
      if (out.status !== 204) {
        throw new Error(`logout answered ${out.status}`);
      }
      const t0 = process.hrtime.bigint();
      const gateway =
        (await http.get('/auth/me', accessToken)).status === 401
          ? Number(process.hrtime.bigint() - t0) / 1e6
          : Infinity;
      const [orders, profile] = await Promise.all([
        refusedWithin(nc, 'orders.list', accessToken, 5000),
        refusedWithin(nc, 'profile.get', accessToken, 5000),
      ]);
      perService.gateway.push(gateway);
      perService.orders.push(orders);
      perService.profile.push(profile);
      worst.push(Math.max(gateway, orders, profile));
    }
    return { runs: RUNS, worst, perService };
  } finally {
    await nc.close();
    await system.stop();
    await nats.stop();
    await db.drop();
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quiet = (store) => {
  store.logger.warn = () => undefined; // each failed attempt to replace the watch warns
  return store;
};

/**
 * One failover: a 3-node cluster with the bucket on all three, a service's store connected to the
 * node that leads the bucket's stream, and that node SIGKILLed. Returns, in ms after the kill, when
 * the bucket took a write again (a writer on the other nodes retrying every 50 ms with a 250 ms
 * timeout), when the store counted as current again, and when it knew that write's revocation.
 */
async function failover() {
  const cluster = await startNatsCluster({ nodes: 3 });
  const conns = [];
  const stores = [];
  const options = { accessTokenTtl: 900, revocationReplicas: 3 };
  try {
    const open = async (servers) => {
      const nc = await connect({
        servers,
        noRandomize: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
      conns.push(nc);
      return nc;
    };
    const creator = quiet(new RevocationStore(options));
    stores.push(creator);
    const admin = await open(cluster.nodes.map((n) => n.url));
    await creator.start(admin); // creates the bucket with three replicas
    const jsm = await admin.jetstreamManager();
    const leader = cluster.node((await jsm.streams.info(`KV_${REVOCATION_BUCKET}`)).cluster.leader);
    const others = cluster.nodes.filter((n) => n !== leader).map((n) => n.url);
    const nc = await open([leader.url, ...others]);
    const store = quiet(new RevocationStore(options));
    stores.push(store);
    await store.start(nc);
    const writer = await open(others);

    const killed = Date.now();
    await leader.stop('SIGKILL');
    const since = () => Date.now() - killed;
    let writable;
    const id = randomUUID();
    void (async () => {
      let kv;
      while (writable === undefined) {
        try {
          kv ??= await writer.jetstream({ timeout: 250 }).views.kv(REVOCATION_BUCKET);
          await kv.put(`sid.${id}`, JSON.stringify({ until: Math.floor(Date.now() / 1000) + 900 }));
          writable = since();
        } catch {
          await sleep(50);
        }
      }
    })();
    let stale = false; // the store notices the disconnect within a few ms
    let current;
    let knows;
    while (since() < 60_000 && (current === undefined || knows === undefined)) {
      stale ||= !store.isCurrent;
      if (current === undefined && stale && store.isCurrent) {
        current = since();
      }
      if (knows === undefined && store.isCurrent && store.isRevoked('', id)) {
        knows = since();
      }
      await sleep(5);
    }
    if (knows === undefined) {
      throw new Error('the store did not recover within 60 s of the kill');
    }
    return { writable, current, knows };
  } finally {
    stores.forEach((s) => s.onApplicationShutdown());
    await Promise.all(conns.map((c) => c.close()));
    await cluster.stop();
  }
}

async function recovery() {
  const runs = [];
  for (let i = 0; i < RECOVERY_RUNS; i++) {
    runs.push(await failover());
  }
  return runs;
}

function failoverMarkdown(runs) {
  const sec = (ms) => (ms / 1000).toFixed(2);
  const row = (name, v) =>
    `| ${name} | ${sec(median(v))} | ${sec(Math.min(...v))} – ${sec(Math.max(...v))} |`;
  const col = (k) => runs.map((x) => x[k]);
  return [
    `Failover: ${runs.length} runs, each on a fresh 3-node cluster holding the bucket on every node, with a`,
    "service's store connected to the node that leads the bucket's stream, and that node SIGKILLed.",
    'A writer on the other nodes retries a revocation every 50 ms (250 ms timeout) until the bucket',
    'takes it, so "takes writes again" is late by up to 0.3 s. While its store is not current, a',
    'service answers 503 to every token. Seconds; median and range.',
    '',
    '| | median s | range s |',
    '|---|---|---|',
    row(
      'the kill → the bucket takes writes again (JetStream has elected leaders)',
      col('writable'),
    ),
    row('the kill → the store is current again', col('current')),
    row("the kill → the store knows the writer's revocation", col('knows')),
    row(
      'the bucket took the revocation → the store knows it',
      runs.map((x) => x.knows - x.writable),
    ),
    '',
  ];
}

async function main() {
  const checkNs = revocationCheckCost();
  const p = await propagation();
  const r = await recovery();
  const fmt = (v) => (Number.isFinite(v) ? v.toFixed(2) : 'never');
  const rows = Object.entries(p.perService).map(
    ([s, v]) => `| ${s} | ${fmt(median(v))} | ${fmt(percentile(v, 99))} | ${fmt(Math.max(...v))} |`,
  );
  const md = [
    '# Revocation',
    '',
    `Propagation: ${p.runs} logouts through the gateway; after each 204, every service is asked (HTTP for the`,
    'gateway, raw NATS for orders and profile) until it answers 401. Times in ms from the logout response;',
    'each includes one request round trip, so they are upper bounds.',
    '',
    '| service | median | p99 | max |',
    '|---|---|---|---|',
    ...rows,
    `| **all services** | **${fmt(median(p.worst))}** | **${fmt(percentile(p.worst, 99))}** | **${fmt(Math.max(...p.worst))}** |`,
    '',
    `Revocation check on the request path (two map lookups, 100,000 revocations held): ${checkNs.toFixed(1)} ns per verification (median of 5 rounds of 2,000,000).`,
    '',
    ...(r.length === 0 ? [] : failoverMarkdown(r)),
  ].join('\n');
  writeResults(
    workspaceRoot(),
    'revocation',
    {
      revocationCheckNs: checkNs,
      failoverMs: r,
      propagationMs: {
        median: median(p.worst),
        p99: percentile(p.worst, 99),
        max: Math.max(...p.worst),
        perService: Object.fromEntries(
          Object.entries(p.perService).map(([s, v]) => [
            s,
            { median: median(v), p99: percentile(v, 99) },
          ]),
        ),
      },
    },
    md,
  );
  console.log(md);
}

module.exports = { main };
if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
