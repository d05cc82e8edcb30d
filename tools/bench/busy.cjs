// How busy each system keeps the machine's cores when it runs alone: Baton, the floor and the
// framework floor, one at a time, on one route at several connection counts.
//   npm exec -- node -r ./tools/scripts/register-paths.cjs tools/bench/busy.cjs [route]
// Per run: req/s, the CPU time per request of every process (services, nats-server and the load
// generator), and the cores those kept busy, in all and by process. Throughput on this machine is
// not CPU time alone: a system that leaves a core idle part of the time is slower than its CPU
// time per request says (docs/performance.md). BENCH_BUSY_CONNECTIONS (default 10,20,40),
// BENCH_DURATION (seconds per run, default 4).
const { busyCores } = require('./bench-utils.cjs');
const { startBaton, startBare } = require('./http.bench.cjs');
const { loadSideBySide } = require('./system-load.cjs');

const CONNECTIONS = (process.env.BENCH_BUSY_CONNECTIONS || '10,20,40').split(',').map(Number);
const DURATION = Number(process.env.BENCH_DURATION || 4);

async function main() {
  const route = process.argv[2] || 'GET /orders/:id';
  const starts = [
    () => startBaton('baton'),
    () => startBare('floor', 'floor.cjs'),
    () => startBare('framework floor', 'nest-floor.cjs'),
  ];
  console.log(`${route}, each system alone, ${DURATION} s per run`);
  for (const start of starts) {
    const system = await start();
    try {
      const found = system.routes.find((r) => r.name === route);
      if (!found) {
        throw new Error(`unknown route "${route}"`);
      }
      const load = {
        pids: { ...system.pids, nats: system.natsPid },
        request: found.request(system.baseUrl),
      };
      await loadSideBySide([load], { connections: 10, duration: 1 }); // warm-up
      for (const connections of CONNECTIONS) {
        const [r] = await loadSideBySide([load], { connections, duration: DURATION });
        if (r.failed > 0) {
          throw new Error(`${system.label}: ${r.failed} failed requests`);
        }
        const byProcess = Object.entries(r.perRequest)
          .map(([k, us]) => `${k} ${busyCores({ total: us, rps: r.rps }).toFixed(2)}`)
          .join(', ');
        console.log(
          `${system.label.padEnd(16)} ${String(connections).padStart(3)} connections: ${Math.round(r.rps)} req/s, ${Math.round(r.total)} µs CPU per request, ${busyCores(r).toFixed(2)} cores busy (${byProcess})`,
        );
      }
    } finally {
      await system.stop();
    }
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
