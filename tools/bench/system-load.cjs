// What the end-to-end benchmarks share: a process's CPU time and RSS from /proc, the fixtures a
// Baton system is seeded with, and the routes they load.
const { fork } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { HttpClient } = require('@baton/testing');

const rssOf = (pid) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
};

/** CPU time (user + system) a process has used, in microseconds. */
const cpuOf = (pid) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1e6 / CLOCK_TICKS);
  } catch {
    return 0;
  }
};
const CLOCK_TICKS = 100;

/** The order every system is seeded with, so that each answers GET /orders(/:id) with the same body. */
const SEED_ORDER = { items: [{ sku: 'B-1', quantity: 1, unitPrice: 1 }] };

async function seed(baseUrl) {
  const http = new HttpClient(baseUrl);
  const user = { email: 'bench@example.test', password: 'bench-password-1' };
  await http.post('/auth/register', user);
  const { accessToken } = (await http.post('/auth/login', user)).body;
  await http.patch('/profile/me', { shippingAddress: '1 Bench Road' }, accessToken);
  const order = await http.post('/orders', SEED_ORDER, accessToken);
  return { token: accessToken, orderId: order.body.id };
}

function routesFor({ token, orderId }) {
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ items: [{ sku: 'B-1', quantity: 2, unitPrice: 3.5 }] });
  return [
    { name: 'GET /health', request: (u) => ({ url: `${u}/health` }) },
    { name: 'GET /auth/me', request: (u) => ({ url: `${u}/auth/me`, headers: auth }) },
    { name: 'GET /orders/:id', request: (u) => ({ url: `${u}/orders/${orderId}`, headers: auth }) },
    { name: 'GET /orders', request: (u) => ({ url: `${u}/orders?limit=20`, headers: auth }) },
    {
      name: 'POST /orders',
      request: (u) => ({ url: `${u}/orders`, method: 'POST', headers: auth, body }),
    },
  ];
}

/** A load generator in its own process (load.cjs), ready to start on `go()`. */
function loadProcess() {
  const child = fork(join(__dirname, 'load.cjs'), [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ready = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`load generator exited ${code}`)));
  });
  return {
    pid: child.pid,
    ready,
    release: () => child.connected && child.disconnect(),
    go: (job) =>
      new Promise((resolve, reject) => {
        child.once('message', (m) => (m.error ? reject(new Error(m.error)) : resolve(m)));
        child.send(job);
      }),
  };
}

/** The CPU time (µs) each of `pids` spends per second when nothing loads it, over `seconds`. */
async function idleRates(pids, seconds) {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuOf(pid)]));
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return Object.fromEntries(
    Object.entries(pids).map(([k, pid]) => [k, (cpuOf(pid) - before[k]) / seconds]),
  );
}

/**
 * Loads several systems at the same time, each with `connections` of its own for `duration`
 * seconds, and returns the CPU time per request each system spent: its processes (`pids`: the
 * services and their nats-server) and its own load generator. On a 2-core machine whose speed
 * drifts, loading them together slows all of them alike, so their ratio holds where back-to-back
 * runs moved by a quarter. Throughput on a saturated machine is its CPU divided by the CPU time a
 * request costs, so the ratio of these costs is the ratio of throughputs. A load's `idle` rates
 * (`idleRates`) are taken off its processes' time: what a system does unloaded (timers, heartbeats)
 * would be spread over a quarter as many requests when four share the machine as when it runs alone.
 */
async function loadSideBySide(loads, { connections, duration }) {
  const generators = loads.map(() => loadProcess());
  try {
    await Promise.all(generators.map((g) => g.ready));
    const counted = loads.map((load, i) => ({ ...load.pids, load: generators[i].pid }));
    const cpuNow = () =>
      counted.map((pids) =>
        Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuOf(pid)])),
      );
    const before = cpuNow();
    const started = performance.now();
    const results = await Promise.all(
      loads.map((load, i) => generators[i].go({ request: load.request, connections, duration })),
    );
    const after = cpuNow();
    const seconds = (performance.now() - started) / 1000;
    return results.map((r, i) => {
      const busy = (k) => after[i][k] - before[i][k] - (loads[i].idle?.[k] ?? 0) * seconds;
      const perRequest = Object.fromEntries(
        Object.keys(counted[i]).map((k) => [k, Math.max(0, busy(k)) / Math.max(1, r.total)]),
      );
      return {
        perRequest,
        total: Object.values(perRequest).reduce((a, b) => a + b, 0),
        rps: r.rps,
        failed: r.failed,
      };
    });
  } finally {
    generators.forEach((g) => g.release());
  }
}

module.exports = { cpuOf, idleRates, loadSideBySide, routesFor, rssOf, seed, SEED_ORDER };
