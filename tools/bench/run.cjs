// `npm run bench`: every benchmark, one after the other, then the targets checked against their
// results (targets.cjs); everything goes to bench/results/.
const targets = require('./targets.cjs');
const suites = [
  require('./verify.bench.cjs'),
  require('./revocation.bench.cjs'),
  require('./http.bench.cjs'),
];

(async () => {
  for (const suite of suites) {
    await suite.main();
  }
  targets.main();
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
