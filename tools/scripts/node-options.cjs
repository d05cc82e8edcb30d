// The Node.js options every Baton service runs with: `npm start` and the test harness pass them in
// NODE_OPTIONS, and the Dockerfile sets the same (keep the two alike).
//
// A V8 old-space limit of 512 MB per service: the services hold 30 to 60 MB live, so it leaves ample
// room, and a heap that does grow without bound stops the service with an out-of-memory error
// instead of taking the host's memory. Under 1 GB it also makes V8 let the heap grow less between
// collections: under a steady load the gateway's RSS swung between 157 and 209 MB without it, and
// held at 130 to 134 MB with it (docs/performance.md).
const HEAP_LIMIT = '--max-old-space-size=512';

/** `own` (a NODE_OPTIONS value, possibly empty) with the services' heap limit unless it sets one. */
function serviceNodeOptions(own = '') {
  const given = own.trim();
  if (/--max-old-space-size\b/.test(given)) {
    return given;
  }
  return given ? `${given} ${HEAP_LIMIT}` : HEAP_LIMIT;
}

module.exports = { serviceNodeOptions };
