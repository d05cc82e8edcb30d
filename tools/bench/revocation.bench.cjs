// Revocation: how long after a logout response every service refuses the token (median, p99 over
// many logouts, measured from outside by polling each service), and what the revocation check
// costs per verification.
const { connect } = require('nats');
const { randomUUID } = require('node:crypto');
const { RevocationStore } = require('@baton/auth');
const {
  createTestDatabase,
  HttpClient,
  natsRequest,
  startNatsServer,
  startSystem,
  workspaceRoot,
} = require('@baton/testing');
const { median, nsPerOp, percentile, writeResults } = require('./bench-utils.cjs');

const RUNS = Number(process.env.BENCH_REVOCATION_RUNS || 200);

function revocationCheckCost() {
  const store = new RevocationStore({ accessTokenTtl: 900 });
  const until = Math.floor(Date.now() / 1000) + 900;
  for (let i = 0; i < 100_000; i++) store.revoked.sid.set(randomUUID(), until);
  const probes = Array.from({ length: 1024 }, () => [randomUUID(), randomUUID()]);
  return nsPerOp((i) => store.isRevoked(probes[i & 1023][0], probes[i & 1023][1]), 2_000_000);
}

async function refusedWithin(nc, subject, token, deadlineMs) {
  const start = process.hrtime.bigint();
  for (;;) {
    const reply = await natsRequest(nc, subject, {}, token);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (reply.err && reply.err.statusCode === 401) return elapsed;
    if (elapsed > deadlineMs) return Infinity;
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
      if (out.status !== 204) throw new Error(`logout answered ${out.status}`);
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

async function main() {
  const checkNs = revocationCheckCost();
  const p = await propagation();
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
  ].join('\n');
  writeResults(
    workspaceRoot(),
    'revocation',
    {
      revocationCheckNs: checkNs,
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
