// `npm run bench`: every benchmark, one after the other; results go to bench/results/.
const suites = [
  require('./verify.bench.cjs'),
  require('./revocation.bench.cjs'),
  require('./http.bench.cjs'),
];

(async () => {
  for (const suite of suites) {
    await suite.main();
  }
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
