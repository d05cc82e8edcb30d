// End to end: autocannon against the real gateway and services on a harness-started nats-server,
// each route at fixed concurrency for a fixed time, four ways in one run: Baton as shipped, Baton
// with its guards swapped for pass-throughs (the cost of auth), the floor (node:http + nats, in
// memory, no auth) and the framework floor (the floor's hops on NestJS as it comes), in rounds that
// take the four in turn, each round's ratios from runs seconds apart; then each route
// on Baton and no-auth at once, for a cost of auth that the machine's drift does not move; then a
// steady mixed load to see whether memory stays flat.
const autocannon = require('autocannon');
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const {
  createTestDatabase,
  freePort,
  serviceNodeOptions,
  startNatsServer,
  startSystem,
  workspaceRoot,
} = require('@baton/testing');
const { median, roundRatio, rssSettled, writeResults } = require('./bench-utils.cjs');
const {
  cpuOf,
  idleRates,
  loadSideBySide,
  routesFor,
  rssOf,
  seed,
  SEED_ORDER,
} = require('./system-load.cjs');

const DURATION = Number(process.env.BENCH_DURATION || 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 10);
const SOAK = Number(process.env.BENCH_SOAK_SECONDS ?? 120);
const SOAK_WARMUP_MAX = Number(process.env.BENCH_SOAK_WARMUP_MAX ?? 120);
const SIDE_ROUNDS = Number(process.env.BENCH_SIDE_ROUNDS ?? 5);
const SIDE_SECONDS = Number(process.env.BENCH_SIDE_SECONDS || 3);
const root = workspaceRoot();

function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

/**
 * Runs one route of one system, sampling its processes' RSS meanwhile, and counts the CPU time each
 * process (the services, its nats-server, and this one, which runs autocannon) spent per request: on
 * a 2-core machine shared by all of them, that says where the time goes better than req/s alone.
 */
async function measure(system, route) {
  const { label, baseUrl, pids } = system;
  const everyone = { ...pids, nats: system.natsPid, autocannon: process.pid };
  await run({ ...route.request(baseUrl), duration: 1 }); // warm-up
  const peak = Object.fromEntries(Object.keys(pids).map((p) => [p, 0]));
  const sampler = setInterval(() => {
    for (const [name, pid] of Object.entries(pids)) {
      peak[name] = Math.max(peak[name], rssOf(pid));
    }
  }, 250);
  const cpuBefore = Object.fromEntries(Object.entries(everyone).map(([k, pid]) => [k, cpuOf(pid)]));
  const r = await run(route.request(baseUrl));
  clearInterval(sampler);
  const cpuUsPerRequest = Object.fromEntries(
    Object.entries(everyone).map(([k, pid]) => [
      k,
      Math.round((cpuOf(pid) - cpuBefore[k]) / Math.max(1, r.requests.total)),
    ]),
  );
  const result = {
    cpuUsPerRequest,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    peakRssMb: Object.fromEntries(
      Object.entries(peak).map(([k, v]) => [k, +(v / 2 ** 20).toFixed(1)]),
    ),
  };
  console.log(
    `${label.padEnd(10)} ${route.name.padEnd(16)} ${r.requests.average.toFixed(0).padStart(7)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  errors ${result.errors}`,
  );
  return result;
}

/** Baton on a nats-server of its own (services log to files in a temporary folder). */
async function startBaton(label, preload) {
  const nats = await startNatsServer();
  const db = await createTestDatabase();
  // The services log to files, as a container runtime would keep them: this process, which runs
  // the load, is not also their log collector.
  const logDir = mkdtempSync(join(tmpdir(), 'baton-bench-logs-'));
  let system;
  const stop = async () => {
    await system?.stop();
    await db.drop();
    await nats.stop();
    rmSync(logDir, { recursive: true, force: true });
  };
  try {
    // a long access-token lifetime so no token expires during the run
    system = await startSystem({
      natsUrl: nats.url,
      storeEnv: db.env,
      preload,
      logDir,
      env: { ACCESS_TOKEN_TTL: '3600' },
    });
    const fixtures = await seed(system.gatewayUrl);
    const pids = Object.fromEntries(
      ['gateway', 'auth', 'orders', 'profile'].map((s) => [s, system.pid(s)]),
    );
    return {
      label,
      baseUrl: system.gatewayUrl,
      routes: routesFor(fixtures),
      pids,
      natsPid: nats.process.pid,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The cost of auth, measured like for like: each route on Baton and on no-auth at once,
 * `SIDE_ROUNDS` times, and per round no-auth's CPU time per request (services, nats-server and its
 * own load generator) over Baton's, which is Baton's throughput relative to no-auth's. The two have
 * the same processes doing the same work but for the guard, so loading them together slows both
 * alike. (The floors are not measured this way: their handful of small processes fare differently
 * from Baton's under that contention, so theirs is a different ratio from the one asked for.)
 */
async function sideBySide(systems) {
  const byRoute = {};
  const pidsOf = (s) => ({ ...s.pids, nats: s.natsPid });
  const idle = [];
  for (const s of systems) {
    idle.push(await idleRates(pidsOf(s), 3));
  }
  for (const [i, route] of systems[0].routes.entries()) {
    const rounds = [];
    for (let r = 0; r < SIDE_ROUNDS; r++) {
      const loads = systems.map((s, j) => ({
        pids: pidsOf(s),
        idle: idle[j],
        request: s.routes[i].request(s.baseUrl),
      }));
      const measured = await loadSideBySide(loads, {
        connections: Math.max(2, Math.round(CONNECTIONS / 2)),
        duration: SIDE_SECONDS,
      });
      rounds.push(Object.fromEntries(systems.map((s, j) => [s.label, measured[j]])));
    }
    const ratios = (of, over) => rounds.map((r) => r[of].total / r[over].total);
    const summary = (values) => ({
      median: +median(values).toFixed(3),
      min: +Math.min(...values).toFixed(3),
      max: +Math.max(...values).toFixed(3),
    });
    byRoute[route.name] = {
      cpuUsPerRequest: Object.fromEntries(
        systems.map((s) => [s.label, Math.round(median(rounds.map((r) => r[s.label].total)))]),
      ),
      batonOverNoAuth: summary(ratios('no-auth', 'baton')),
      failed: Object.fromEntries(
        systems.map((s) => [s.label, rounds.reduce((n, r) => n + r[s.label].failed, 0)]),
      ),
      rounds,
    };
    const b = byRoute[route.name];
    console.log(
      `side by side ${route.name.padEnd(16)} Baton ÷ no-auth ${b.batonOverNoAuth.median}`,
    );
  }
  return {
    idleUsPerSecond: Object.fromEntries(
      systems.map((s, j) => [
        s.label,
        Math.round(Object.values(idle[j]).reduce((a, b) => a + b, 0)),
      ]),
    ),
    byRoute,
  };
}

/**
 * Steady mixed load on `routes`, RSS sampled every 500 ms. The warm-up runs the same load in
 * stretches of 10 s (a quarter of a soak shorter than 40 s) for at least 60 s and until every
 * process's median RSS has held within 2% for three stretches, or for SOAK_WARMUP_MAX seconds: a
 * process that sat idle through other routes' rounds has shrunk, and regrows for a minute or more,
 * by steps that can be 20 s apart. A leak never settles, and then shows in the soak itself.
 */
async function soakTest(baseUrl, routes, pids) {
  const stretch = Math.min(10, SOAK / 4);
  const mixed = (seconds) =>
    Promise.all(
      routes.map((r) =>
        run({
          ...r.request(baseUrl),
          connections: Math.max(2, CONNECTIONS / 4),
          duration: seconds,
        }),
      ),
    );
  const sampled = async (seconds) => {
    const samples = Object.fromEntries(Object.keys(pids).map((k) => [k, []]));
    const sampler = setInterval(() => {
      for (const [k, pid] of Object.entries(pids)) {
        samples[k].push(rssOf(pid));
      }
    }, 500);
    await mixed(seconds);
    clearInterval(sampler);
    return samples;
  };
  const medians = (samples) =>
    Object.fromEntries(Object.entries(samples).map(([k, values]) => [k, median(values)]));
  const mb = (bytes) => +(bytes / 2 ** 20).toFixed(1);
  const history = [];
  let settled = false;
  let warmupSeconds = 0;
  const least = Math.min(60, SOAK_WARMUP_MAX);
  while (!settled && warmupSeconds < Math.max(3 * stretch, SOAK_WARMUP_MAX)) {
    history.push(medians(await sampled(stretch)));
    warmupSeconds += stretch;
    settled = warmupSeconds >= least && rssSettled(history);
    const rss = Object.entries(history.at(-1)).map(([k, v]) => `${k} ${mb(v)}`);
    console.log(`soak warm-up, ${warmupSeconds} s: median RSS MB ${rss.join(', ')}`);
  }
  console.log(
    `soak: ${warmupSeconds} s warm-up (${settled ? 'RSS settled' : 'RSS still moving'}), then ${SOAK} s of mixed load`,
  );
  // RSS rises and falls with every garbage collection: compare the median of the first and of the
  // last fifth of the run, not two single readings.
  const samples = await sampled(SOAK);
  const processes = Object.fromEntries(
    Object.entries(samples).map(([k, values]) => {
      const window = Math.max(1, Math.floor(values.length / 5));
      const before = median(values.slice(0, window));
      const after = median(values.slice(-window));
      return [
        k,
        {
          beforeMb: mb(before),
          afterMb: mb(after),
          minMb: mb(Math.min(...values)),
          maxMb: mb(Math.max(...values)),
          growth: +(after / before - 1).toFixed(3),
        },
      ];
    }),
  );
  return {
    seconds: SOAK,
    warmupSeconds,
    leastSeconds: least,
    stretchSeconds: stretch,
    settled,
    processes,
  };
}

/**
 * A chain of bare processes, one per role, from `script` (floor.cjs or nest-floor.cjs), on a
 * nats-server of its own.
 */
async function startBare(label, script) {
  const nats = await startNatsServer();
  const port = await freePort();
  const children = {};
  const stop = async () => {
    for (const c of Object.values(children)) {
      c.kill('SIGTERM');
    }
    await nats.stop();
  };
  const start = (role) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(__dirname, script), role], {
        // the services' own Node.js options (their heap limit), so that the floors run alike
        env: {
          ...process.env,
          NATS_URL: nats.url,
          PORT: String(port),
          NODE_OPTIONS: serviceNodeOptions(root),
        },
      });
      children[role] = child;
      child.stdout.on('data', (d) => d.toString().includes('listening') && resolve());
      child.once('exit', (code) => reject(new Error(`${label} ${role} exited ${code}`)));
    });
  try {
    await Promise.all(['auth', 'profile', 'orders'].map(start));
    await start('gateway');
    const baseUrl = `http://127.0.0.1:${port}`;
    const order = await (
      await fetch(`${baseUrl}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(SEED_ORDER),
      })
    ).json();
    const pids = Object.fromEntries(
      ['gateway', 'auth', 'orders', 'profile'].map((r) => [r, children[r].pid]),
    );
    return {
      label,
      baseUrl,
      routes: routesFor({ token: 'none', orderId: order.id }),
      pids,
      natsPid: nats.process.pid,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One route's runs on one system, a run per round, as one result (and the runs themselves). */
function combine(rounds) {
  const med = (pick) => median(rounds.map(pick));
  const keys = (pick) => Object.keys(pick(rounds[0]));
  return {
    rps: med((r) => r.rps),
    p50: med((r) => r.p50),
    p99: med((r) => r.p99),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    cpuUsPerRequest: Object.fromEntries(
      keys((r) => r.cpuUsPerRequest).map((k) => [k, Math.round(med((r) => r.cpuUsPerRequest[k]))]),
    ),
    peakRssMb: Object.fromEntries(
      keys((r) => r.peakRssMb).map((k) => [k, Math.max(...rounds.map((r) => r.peakRssMb[k]))]),
    ),
    rounds,
  };
}

async function main() {
  // Every system is up at once, each on its own nats-server, so that a round's four runs are seconds
  // apart, not minutes (this machine's speed drifts by a quarter over minutes).
  const systems = [];
  try {
    systems.push(await startBaton('baton'));
    systems.push(await startBaton('no-auth', [join(__dirname, 'no-auth.preload.cjs')]));
    systems.push(await startBare('floor', 'floor.cjs'));
    systems.push(await startBare('nest-floor', 'nest-floor.cjs'));
    // Per route, ROUNDS rounds; each round runs the four back to back, starting with a different
    // one each time. A ratio is taken within each round, and its median reported: a route's four
    // runs in a round are seconds apart, where a single long run each would let the machine's
    // drift between them into the ratio.
    const perRound = systems.map(() => ({}));
    for (const [i, route] of systems[0].routes.entries()) {
      for (let r = 0; r < ROUNDS; r++) {
        for (let k = 0; k < systems.length; k++) {
          const j = (r + k) % systems.length;
          const system = systems[j];
          (perRound[j][route.name] ??= []).push(await measure(system, system.routes[i]));
        }
      }
    }
    const runs = perRound.map((byRoute) => ({
      results: Object.fromEntries(
        Object.entries(byRoute).map(([name, rounds]) => [name, combine(rounds)]),
      ),
    }));
    const [shipped, bypass, floor, nestFloor] = runs;
    const together = SIDE_ROUNDS > 0 ? await sideBySide(systems.slice(0, 2)) : undefined;
    const baton = systems[0];
    // /health asks every service over NATS: keep it out of the RSS soak mix
    if (SOAK) {
      shipped.soak = await soakTest(baton.baseUrl, baton.routes.slice(1), baton.pids);
    }
    const names = Object.keys(shipped.results);
    const ratioCell = (x) => `${x.median.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
    const withErrors = (r) => `${r.rps.toFixed(0)} (${r.errors})`;
    const rows = names.map((n) => {
      const s = shipped.results[n];
      const cells = [
        n,
        s.rps.toFixed(0),
        `${s.p50} / ${s.p99}`,
        s.errors,
        withErrors(bypass.results[n]),
        ratioCell(roundRatio(s, bypass.results[n])),
        withErrors(floor.results[n]),
        ratioCell(roundRatio(s, floor.results[n])),
        withErrors(nestFloor.results[n]),
        ratioCell(roundRatio(nestFloor.results[n], floor.results[n])),
        Object.values(s.peakRssMb)
          .map((v) => v.toFixed(0))
          .join(' / '),
      ];
      return `| ${cells.join(' | ')} |`;
    });
    const cpuCells = (r) =>
      ['gateway', 'auth', 'orders', 'profile', 'nats', 'autocannon']
        .map((k) => r.cpuUsPerRequest[k])
        .concat(Object.values(r.cpuUsPerRequest).reduce((a, b) => a + b, 0))
        .join(' | ');
    const cpuRows = names.flatMap((n) => [
      `| ${n} | Baton | ${cpuCells(shipped.results[n])} |`,
      `| | framework floor | ${cpuCells(nestFloor.results[n])} |`,
      `| | floor | ${cpuCells(floor.results[n])} |`,
    ]);
    const range = (x) => `**${x.median.toFixed(2)}** (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
    const idleLine = together
      ? Object.entries(together.idleUsPerSecond)
          .map(([label, us]) => `${label} ${(us / 1e4).toFixed(1)}% of a core`)
          .join(', ')
      : '';
    const sideRows = together
      ? names.map((n) => {
          const t = together.byRoute[n];
          const cpu = ['baton', 'no-auth'].map((l) => t.cpuUsPerRequest[l]);
          return `| ${n} | ${cpu.join(' | ')} | ${range(t.batonOverNoAuth)} |`;
        })
      : [];
    const soakRows = shipped.soak
      ? Object.entries(shipped.soak.processes).map(
          ([k, v]) =>
            `| ${k} | ${v.beforeMb} | ${v.afterMb} | ${(v.growth * 100).toFixed(1)} % | ${v.minMb} – ${v.maxMb} |`,
        )
      : [];
    const md = [
      '# End to end',
      '',
      `autocannon, ${CONNECTIONS} connections; all four systems up at once, each on a harness-started nats-server of its own; SQLite stores. Each route is run in ${ROUNDS} rounds, and each round runs it on the four back to back (a 1 s warm-up, then ${DURATION} s), starting with a different one each round. Req/s, latencies and CPU times are medians over the rounds (errors their sum, peak RSS their highest); a ratio is taken within each round, and its median and range over the rounds are given.`,
      '"no-auth" is Baton with its guards swapped for pass-throughs inside the benchmark only; "floor" is the same hops on node:http + nats, in memory, without auth or validation; "framework floor" is the floor on NestJS as it comes (Fastify adapter, Nest NATS microservices), still without auth, validation, logging or a database. The services log to files.',
      '',
      '| route | Baton req/s | p50 / p99 ms | errors | no-auth req/s (errors) | Baton ÷ no-auth | floor req/s (errors) | Baton ÷ floor | framework floor req/s (errors) | framework floor ÷ floor | peak RSS MB gateway / auth / orders / profile |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      'CPU time per request, in µs, by process (user + system, from /proc; autocannon runs in the benchmark process; medians over the rounds):',
      '',
      '| route | run | gateway | auth | orders | profile | nats-server | autocannon | total |',
      '|---|---|--:|--:|--:|--:|--:|--:|--:|',
      ...cpuRows,
      '',
      ...(sideRows.length
        ? [
            `The cost of auth, side by side: each route on Baton and no-auth at once, ${SIDE_ROUNDS} rounds of ${SIDE_SECONDS} s, ${Math.max(2, Math.round(CONNECTIONS / 2))} connections each, each with its own load generator process. CPU µs per request counts each system's services, nats-server and load generator (median of the rounds), less what each process spends idle (measured unloaded just before: ${idleLine}). Baton ÷ no-auth is no-auth's cost over Baton's, which on a saturated machine is the ratio of their throughputs: median of the rounds, and their range. Loaded together, a slower moment of the machine slows both alike, where back-to-back runs (the first table) move with it.`,
            '',
            '| route | Baton µs | no-auth µs | Baton ÷ no-auth |',
            '|---|--:|--:|---|',
            ...sideRows,
            '',
          ]
        : []),
      ...(soakRows.length
        ? [
            `Memory over ${SOAK} s of steady mixed load after ${shipped.soak.warmupSeconds} s of it as a warm-up (at least ${shipped.soak.leastSeconds} s, ${shipped.soak.settled ? 'then until' : 'cut off at the limit before'} every process's median RSS in each of the last three ${shipped.soak.stretchSeconds} s stretches lay within 2% of the lowest of them; RSS sampled every 500 ms; before and after are the medians of the first and last fifth of the run):`,
            '',
            '| process | before MB | after MB | growth | range MB |',
            '|---|---|---|---|---|',
            ...soakRows,
            '',
          ]
        : []),
    ].join('\n');
    writeResults(
      root,
      'http',
      {
        connections: CONNECTIONS,
        durationSeconds: DURATION,
        rounds: ROUNDS,
        baton: shipped,
        noAuth: bypass,
        floor,
        nestFloor,
        sideBySide: together,
      },
      md,
    );
    console.log(md);
    // A ratio against a run that answered errors compares nothing: say so, and fail.
    const byLabel = { baton: shipped, 'no-auth': bypass, floor, 'framework floor': nestFloor };
    const failed = Object.entries(byLabel).flatMap(([label, run]) =>
      Object.entries(run.results)
        .filter(([, r]) => r.errors > 0)
        .map(([route, r]) => `${label} ${route}: ${r.errors} errors`),
    );
    for (const [route, t] of Object.entries(together?.byRoute ?? {})) {
      for (const [label, count] of Object.entries(t.failed)) {
        if (count > 0) {
          failed.push(`${label} ${route} (side by side): ${count} errors`);
        }
      }
    }
    if (failed.length) {
      throw new Error(`runs with errors (their ratios mean nothing):\n${failed.join('\n')}`);
    }
  } finally {
    for (const system of systems) {
      await system.stop();
    }
  }
}

module.exports = { main, startBaton, startBare };
if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
