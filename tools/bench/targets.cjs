// The performance targets Baton is held to, checked against the results of `npm run bench`
// (bench/results/http.json and verification.json): each target, what the last run measured, and
// whether that met it. `npm run bench` writes bench/results/targets.md after its suites; on its own:
//   npm exec -- node tools/bench/targets.cjs
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { roundRatio } = require('./bench-utils.cjs');

/** Routes that read: each must reach this share of its floor's req/s. */
const READ_ROUTES = ['GET /auth/me', 'GET /orders/:id', 'GET /orders'];
const FLOOR_SHARE = 0.6;
/** Baton ÷ no-auth on every authenticated route: auth may cost at most 10% of throughput. */
const AUTH_SHARE = 0.9;
const CACHED_PER_SECOND = 1_000_000;
const COLD_RS256_OVER_RAW = 1.3;
const RSS_GROWTH = 0.1;
const SOAK_SECONDS = 120;

const fixed = (x) => x.toFixed(2);
const range = (r) => `${fixed(r.median)} (${fixed(r.min)}–${fixed(r.max)})`;

/**
 * One row per target and what it applies to: `{ target, subject, measured, met }`, `met` being
 * null where the run measured nothing for it. `http` and `verification` are the suites' JSON
 * results (either may be undefined).
 */
function checkTargets({ http, verification }) {
  const rows = [];
  const add = (target, subject, measured, met) => rows.push({ target, subject, measured, met });
  const auth = `auth costs at most 10%: Baton ÷ no-auth ≥ ${AUTH_SHARE}`;
  const cached = `cached verification ≥ ${CACHED_PER_SECOND.toLocaleString('en-US')}/s per core`;

  const routes = http ? Object.keys(http.baton.results) : [];
  for (const route of routes.filter((r) => r !== 'GET /health')) {
    const side = http.sideBySide?.byRoute?.[route]?.batonOverNoAuth;
    const ratio = side ?? roundRatio(http.baton.results[route], http.noAuth.results[route]);
    add(
      auth,
      route,
      `${range(ratio)}${side ? ', side by side' : ', back to back'}`,
      ratio.median >= AUTH_SHARE,
    );
  }
  if (!http) {
    add(auth, 'every route', '—', null);
  }

  for (const row of verification?.rows ?? []) {
    const perSecond = 1e9 / row.verifierHitNs;
    add(
      cached,
      row.alg,
      `${Math.round(perSecond).toLocaleString('en-US')}/s`,
      perSecond >= CACHED_PER_SECOND,
    );
  }
  if (!verification?.rows.length) {
    add(cached, 'every algorithm', '—', null);
  }
  const rs256 = verification?.rows.find((r) => r.alg === 'RS256');
  add(
    `cold RS256 within ${COLD_RS256_OVER_RAW}x of raw node:crypto`,
    'RS256 verifier cold ÷ raw',
    rs256 ? `${fixed(rs256.verifierColdOverRaw)}x` : '—',
    rs256 ? rs256.verifierColdOverRaw <= COLD_RS256_OVER_RAW : null,
  );

  for (const route of READ_ROUTES) {
    const baton = http?.baton.results[route];
    const floor = http?.floor.results[route];
    const ratio = baton && floor ? roundRatio(baton, floor) : undefined;
    add(
      `every read route ≥ ${FLOOR_SHARE} of its floor`,
      route,
      ratio ? range(ratio) : '—',
      ratio ? ratio.median >= FLOOR_SHARE : null,
    );
  }

  const soak = http?.baton.soak;
  const flat = `RSS flat (within ${RSS_GROWTH * 100}%) over ${SOAK_SECONDS} s of steady load`;
  for (const [process, p] of Object.entries(soak?.processes ?? {})) {
    // a soak of unrecorded length says nothing of the target's 2 minutes
    add(
      flat,
      process,
      `${(p.growth * 100).toFixed(1)} % over ${soak.seconds ?? 'an unrecorded number of'} s`,
      soak.seconds === undefined
        ? null
        : Math.abs(p.growth) <= RSS_GROWTH && soak.seconds >= SOAK_SECONDS,
    );
  }
  if (!soak) {
    add(flat, 'every process', '—', null);
  }
  return rows;
}

function targetsMarkdown(rows, { http, verification }) {
  const verdict = (met) => (met === null ? 'not measured' : met ? 'met' : '**missed**');
  const missed = rows.filter((r) => r.met === false).length;
  const unmeasured = rows.filter((r) => r.met === null).length;
  const runs = [
    verification && `verification ${verification.date}`,
    http && `end to end ${http.date} (${http.rounds} rounds of ${http.durationSeconds} s)`,
  ].filter(Boolean);
  return [
    '# Targets',
    '',
    `From bench/results/ (${runs.join(', ') || 'no results'}). Ratios are medians over the rounds of one run, with their range. ${rows.length - missed - unmeasured} of ${rows.length} met, ${missed} missed${unmeasured ? `, ${unmeasured} not measured` : ''}. The floor ratios move with the machine's state between runs (docs/performance.md): compare them within one run only.`,
    '',
    '| target | on | measured | |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.target} | ${r.subject} | ${r.measured} | ${verdict(r.met)} |`),
    '',
  ].join('\n');
}

/** Reads bench/results/ under `root`, writes targets.md beside them, and returns the markdown. */
function main(root = join(__dirname, '..', '..')) {
  const dir = join(root, 'bench', 'results');
  const read = (name) => {
    const file = join(dir, `${name}.json`);
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  };
  const results = { http: read('http'), verification: read('verification') };
  const md = targetsMarkdown(checkTargets(results), results);
  writeFileSync(join(dir, 'targets.md'), md);
  console.log(md);
  return md;
}

module.exports = { checkTargets, main, targetsMarkdown };
if (require.main === module) {
  main();
}
