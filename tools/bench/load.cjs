// A load generator in a process of its own, so that its CPU time is its system's alone when several
// systems are loaded at once. The parent sends `{ request, connections, duration }`; this process
// runs autocannon and sends back the result's counts, then waits to be let go (its CPU time is read
// before it exits).
const autocannon = require('autocannon');

process.once('message', ({ request, connections, duration }) => {
  autocannon({ ...request, connections, duration }, (err, r) => {
    process.send(
      err
        ? { error: String(err) }
        : {
            total: r.requests.total,
            rps: r.requests.average,
            failed: r.errors + r.timeouts + r.non2xx,
          },
    );
  });
});
process.once('disconnect', () => process.exit(0));
process.send({ ready: true });
