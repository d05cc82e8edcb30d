// Small helpers shared by the benchmarks: timing, percentiles, result files.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const os = require('node:os');

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const median = (values) => percentile(values, 50);

/** Runs `fn` `ops` times per round, `rounds` times; returns the median ns per operation. */
function nsPerOp(fn, ops, rounds = 5) {
  for (let i = 0; i < Math.min(ops, 10_000); i++) {
    fn(i);
  } // warm-up
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) {
      fn(i);
    }
    samples.push(Number(process.hrtime.bigint() - start) / ops);
  }
  return median(samples);
}

function machine() {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    platform: process.platform,
  };
}

function writeResults(root, name, data, markdown) {
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${name}.json`),
    JSON.stringify({ machine: machine(), date: new Date().toISOString(), ...data }, null, 2),
  );
  writeFileSync(join(dir, `${name}.md`), markdown);
}

/**
 * Whether memory has stopped moving: for every process, its median RSS in each of the last
 * `stretches` stretches of load lies within `tolerance` (a fraction) of the lowest of them.
 * `history` holds one map of process to median RSS per stretch, oldest first. Several stretches,
 * not two: a heap grows in steps, and two stretches can fall between the same two steps.
 */
function rssSettled(history, { stretches = 3, tolerance = 0.02 } = {}) {
  if (history.length < stretches) {
    return false;
  }
  const last = history.slice(-stretches);
  return Object.keys(last[last.length - 1]).every((name) => {
    const values = last.map((medians) => medians[name]);
    if (!values.every((v) => v > 0)) {
      return false;
    }
    return Math.max(...values) / Math.min(...values) - 1 <= tolerance;
  });
}

/**
 * How many cores a load kept busy: its CPU time per request (µs, every process it counts) times
 * its requests per second. On this 2-core machine, 2 would be every core busy all the time.
 */
const busyCores = ({ total, rps }) => (total * rps) / 1e6;

/**
 * The median over rounds of `a`'s req/s over `b`'s, each round's from runs seconds apart, and the
 * range: `a` and `b` are one route's results on two systems, with their `rounds` in the same order.
 */
function roundRatio(a, b) {
  const values = a.rounds.map((x, r) => x.rps / b.rounds[r].rps);
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

module.exports = {
  percentile,
  median,
  nsPerOp,
  machine,
  writeResults,
  rssSettled,
  busyCores,
  roundRatio,
};
