// The Node.js options every Baton service runs with: `npm start` and the test harness pass them in
// NODE_OPTIONS, and the Dockerfile sets the same (keep the two alike).
//
// A V8 old-space limit of 512 MB per service: the services hold 30 to 60 MB live, so it leaves ample
// room, and a heap that does grow without bound stops the service with an out-of-memory error
// instead of taking the host's memory. Under 1 GB it also makes V8 let the heap grow less between
// collections: under a steady load the gateway's RSS swung between 157 and 209 MB without it, and
// held at 130 to 134 MB with it (docs/performance.md).
//
// Semi-spaces of at most 16 MB, Node.js 20's default: Node.js 24 sizes them from the heap limit,
// and let each service's young generation grow to 128 MB, which doubled every service's RSS under
// load (the gateway's 130 MB became 267 MB).
const DEFAULTS = [
  ['--max-old-space-size', '512'],
  ['--max-semi-space-size', '16'],
];

/** `own` (a NODE_OPTIONS value, possibly empty) with each of the services' defaults it does not set. */
function serviceNodeOptions(own = '') {
  const given = own.trim();
  const added = DEFAULTS.filter(([flag]) => !new RegExp(`${flag}\\b`).test(given)).map(
    ([flag, value]) => `${flag}=${value}`,
  );
  return [given, ...added].filter(Boolean).join(' ');
}

module.exports = { serviceNodeOptions };
