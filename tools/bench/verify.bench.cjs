// Verification per operation: libs/auth's guard (cold: signature checked; cached: a token seen
// before) beside raw node:crypto and plain jsonwebtoken (what passport-jwt ran), for RS256, ES256 and
// EdDSA (jsonwebtoken has no EdDSA).
require('reflect-metadata');
const { Reflector } = require('@nestjs/core');
const crypto = require('node:crypto');
const jwt = require('jsonwebtoken');
const { ALGORITHM_ALLOWLIST, JWS_ALGORITHMS, runInCallScope } = require('@baton/auth');
const { TokenFactory, workspaceRoot } = require('@baton/testing');
const { median, nsPerOp, writeResults } = require('./bench-utils.cjs');

const ROUNDS = 5;
/** Cold verifications: rounds in which raw, jsonwebtoken, verifier and guard each run a batch. */
const COLD_ROUNDS = 15;
const COLD_OPS = 400;

/** Nanoseconds per call of `fn` over `ops` calls; a promise it answers with is awaited. */
async function batchNs(fn, ops) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const answer = fn(i);
    if (answer instanceof Promise) {
      await answer;
    }
  }
  return Number(process.hrtime.bigint() - start) / ops;
}

/** Like nsPerOp, for an operation that may answer with a promise (awaited only then). */
async function asyncNsPerOp(fn, ops) {
  await batchNs(fn, 200);
  const samples = [];
  for (let r = 0; r < ROUNDS; r++) {
    samples.push(await batchNs(fn, ops));
  }
  return median(samples);
}

/**
 * The cold operations, measured in turn within each round: per operation, its median time, and its
 * time over raw node:crypto's in the same round (median over the rounds). Measured one after the
 * other instead, a slower moment of the machine during one of them moved their ratio by a third.
 * Each round starts the turn at the next operation: in a fixed order, the batch after
 * jsonwebtoken's (which leaves the most garbage) paid for more of its collections.
 */
async function coldRounds(fns, rounds = COLD_ROUNDS) {
  const names = Object.keys(fns);
  for (const name of names) {
    await batchNs(fns[name], 100);
  } // warm-up
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length];
      samples[name].push(await batchNs(fns[name], COLD_OPS));
    }
  }
  return Object.fromEntries(
    names.map((n) => [
      n,
      {
        ns: median(samples[n]),
        overRaw: median(samples[n].map((ns, r) => ns / samples.raw[r])),
        samples: samples[n],
      },
    ]),
  );
}

/** A token of `alg`, its key and JWKS, and raw node:crypto's check of its signature. */
function setup(alg) {
  const factory = new TokenFactory('baton-auth', 'baton', alg);
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const token = factory.sign({ claims: factory.claims({ exp }) });
  const [h, p, s] = token.split('.');
  const input = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, 'base64url');
  const { digest, dsaEncoding } = JWS_ALGORITHMS[alg];
  const key = dsaEncoding ? { key: factory.publicKey, dsaEncoding } : factory.publicKey;
  return {
    publicKey: factory.publicKey,
    jwks: factory.jwks(),
    token,
    key,
    digest,
    raw: () => crypto.verify(digest, input, key, sig),
  };
}

/**
 * The least a JWT verification on node:crypto does: split the token, decode the signature, check
 * it, parse the payload and look at iss, aud and exp. No header checks, no other claims, no
 * revocation. A reference point between raw node:crypto (which is handed ready buffers) and the
 * verifier (which checks everything).
 */
function minimalJwtVerify(token, key, digest) {
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  const input = Buffer.from(token.slice(0, last));
  if (!crypto.verify(digest, input, key, Buffer.from(token.slice(last + 1), 'base64url'))) {
    throw new Error('invalid signature');
  }
  const claims = JSON.parse(Buffer.from(token.slice(first + 1, last), 'base64url').toString());
  if (claims.iss !== 'baton-auth' || claims.aud !== 'baton' || claims.exp <= Date.now() / 1000) {
    throw new Error('claims');
  }
  return claims;
}

/** A guard and verifier as a service holds them; `lib` is a build of @baton/auth (this one's). */
function guardFor(jwks, cacheSize, lib = require('@baton/auth')) {
  const { AccessTokenVerifier, JwtAuthGuard, KeyStore, RevocationStore, VerifiedTokenCache } = lib;
  const options = {
    issuer: 'baton-auth',
    audience: 'baton',
    algorithms: ALGORITHM_ALLOWLIST,
    jwksRefetchIntervalMs: 10_000,
    // as long as the tokens of setup() live (an hour), so that none expires during a run
    accessTokenTtl: 3600,
    verifiedTokenCacheSize: cacheSize,
  };
  const keys = new KeyStore({ fetchJwks: async () => jwks }, options);
  const revocations = new RevocationStore(options);
  revocations.current = true;
  const verifier = new AccessTokenVerifier(
    keys,
    revocations,
    new VerifiedTokenCache(options),
    options,
  );
  const guard = new JwtAuthGuard(new Reflector(), verifier);
  return { keys, guard, verifier, revocations };
}

function httpContext(token) {
  const handler = () => undefined;
  class Controller {}
  return () => {
    // as every request reaches a guard in Baton: with a request id (the gateway sets one first)
    const req = { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'bench-req-1' } };
    return {
      getType: () => 'http',
      getHandler: () => handler,
      getClass: () => Controller,
      switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({}) }),
    };
  };
}

async function suite(alg) {
  const { publicKey, jwks, token, key, digest, raw } = setup(alg);
  const ctx = httpContext(token);
  const cold = guardFor(jwks, 0);
  await cold.keys.refresh();
  // each request runs in the call scope its transport opens, as in a service
  const guarded = (g) => () => runInCallScope(() => g.guard.canActivate(ctx()));
  const measured = await coldRounds({
    raw,
    minimal: () => minimalJwtVerify(token, key, digest),
    // jsonwebtoken has no EdDSA
    ...(alg === 'EdDSA'
      ? {}
      : {
          jsonwebtoken: () =>
            jwt.verify(token, publicKey, {
              algorithms: [alg],
              issuer: 'baton-auth',
              audience: 'baton',
              clockTolerance: 30,
            }),
        }),
    verifier: () => cold.verifier.verify(token),
    guard: guarded(cold),
  });
  const hot = guardFor(jwks, 10_000);
  await hot.keys.refresh();
  const hotNs = await asyncNsPerOp(guarded(hot), 200_000);
  await hot.verifier.verify(token);
  const verifierHitNs = nsPerOp(() => hot.verifier.cached(token), 1_000_000, ROUNDS);
  const revocationNs = nsPerOp(() => hot.revocations.isRevoked('a', 'b'), 2_000_000, ROUNDS);
  return {
    alg,
    rawNs: measured.raw.ns,
    minimalNs: measured.minimal.ns,
    minimalOverRaw: measured.minimal.overRaw,
    jsonwebtokenNs: measured.jsonwebtoken?.ns,
    coldNs: measured.guard.ns,
    verifierColdNs: measured.verifier.ns,
    verifierColdOverRaw: measured.verifier.overRaw,
    guardColdOverRaw: measured.guard.overRaw,
    cachedNs: hotNs,
    verifierHitNs,
    revocationNs,
  };
}

async function main() {
  const rows = [];
  for (const alg of ALGORITHM_ALLOWLIST) {
    rows.push(await suite(alg));
  }
  const ops = (ns) => (ns === undefined ? '—' : Math.round(1e9 / ns).toLocaleString('en'));
  const md = [
    '# Verification',
    '',
    `Operations per second on one core. The cold operations (raw, minimal JWT, jsonwebtoken, verifier cold, guard cold) run in ${COLD_ROUNDS} rounds, each a batch of ${COLD_OPS} of every one in turn (each round starting at the next one): their rates are medians over the rounds, and a ratio to raw is the median of the ratios within each round. The others are medians of ${ROUNDS} rounds. "guard" is libs/auth's JwtAuthGuard.canActivate on an HTTP context (metadata, header, verifier, principal slot): in the call scope a transport opens for each request; cold = strict header read, key by kid, node:crypto signature check, every claim check and the revocation check; cached = a token verified before (the revocation check still runs). "verifier cold" is AccessTokenVerifier.verify() alone, with nothing cached; "verifier hit" is AccessTokenVerifier.cached() alone. Ratios are of times per operation. jsonwebtoken.verify is what passport-jwt ran; it has no EdDSA. "minimal JWT" is the least a JWT verification on node:crypto does (split the token, decode the signature, check it, parse the payload, look at iss, aud and exp): raw node:crypto is handed ready buffers, so the gap between the two is what reading any token costs, before any of the verifier's checks.`,
    '',
    '| alg | raw node:crypto verify | minimal JWT | minimal JWT ÷ raw (time) | jsonwebtoken.verify | verifier cold | verifier cold ÷ raw (time) | guard cold | guard cold ÷ raw (time) | guard cached | verifier hit | revocation check |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.alg} | ${ops(r.rawNs)} | ${ops(r.minimalNs)} | ${r.minimalOverRaw.toFixed(2)} | ${ops(r.jsonwebtokenNs)} | ${ops(r.verifierColdNs)} | ${r.verifierColdOverRaw.toFixed(2)} | ${ops(r.coldNs)} | ${r.guardColdOverRaw.toFixed(2)} | ${ops(r.cachedNs)} | ${ops(r.verifierHitNs)} | ${ops(r.revocationNs)} |`,
    ),
    '',
  ].join('\n');
  writeResults(workspaceRoot(), 'verification', { rows }, md);
  console.log(md);
}

module.exports = { coldRounds, guardFor, main, setup };
if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
