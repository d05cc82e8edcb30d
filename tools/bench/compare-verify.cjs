// Compares this checkout's cold token verification with another's, in one process.
//   npm exec -- node -r ./tools/scripts/register-paths.cjs tools/bench/compare-verify.cjs <other checkout> [alg]
// The other checkout must be built (`npm run build` there). Raw node:crypto, the other build's
// AccessTokenVerifier and this one's, each with nothing cached, run a batch each in turn, round
// after round (BENCH_ROUNDS, default 31). Their ratio is taken within each round. Runs of the
// verification suite in separate processes moved by more than a change of a few percent.
const { existsSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { median, percentile } = require('./bench-utils.cjs');
const { coldRounds, guardFor, setup } = require('./verify.bench.cjs');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 31);

async function main() {
  const [otherArg, alg = 'RS256'] = process.argv.slice(2);
  const built = otherArg && join(resolve(otherArg), 'dist', 'libs', 'auth', 'src', 'index.js');
  if (!built || !existsSync(built)) {
    throw new Error('usage: compare-verify.cjs <other checkout, built> [RS256|ES256|EdDSA]');
  }
  const { jwks, token, raw } = setup(alg);
  const other = guardFor(jwks, 0, require(built));
  const mine = guardFor(jwks, 0);
  await other.keys.refresh();
  await mine.keys.refresh();
  const measured = await coldRounds(
    {
      raw,
      other: () => other.verifier.verify(token),
      mine: () => mine.verifier.verify(token),
    },
    ROUNDS,
  );
  const ratios = measured.mine.samples.map((ns, r) => ns / measured.other.samples[r]);
  const us = (ns) => (ns / 1000).toFixed(1);
  console.log(`${alg} cold verification, ${ROUNDS} rounds, a batch of each in turn:`);
  console.log(`  raw node:crypto ${us(measured.raw.ns)} µs`);
  for (const [name, m] of [
    [otherArg, measured.other],
    ['this checkout', measured.mine],
  ]) {
    console.log(`  ${name}: ${us(m.ns)} µs, ${m.overRaw.toFixed(3)}x raw`);
  }
  console.log(
    `this checkout ÷ other: median ${median(ratios).toFixed(3)} (quartiles ${percentile(ratios, 25).toFixed(3)}-${percentile(ratios, 75).toFixed(3)})`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
