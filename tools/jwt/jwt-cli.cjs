#!/usr/bin/env node
// `npm run -s jwt -- inspect <token|-> [--jwks <url|file>] [--iss <issuer>] [--aud <audience>]`
//
// Decodes a Baton access token and, given a JWKS, says whether Baton would accept it and why not.
// The rules mirror libs/auth (keys/token-header.ts, keys/key-store.ts, guards/jwt.strategy.ts);
// jwt-cli.spec.ts fails when the two drift apart. Revocation is not checked: it lives in NATS.
//
// Exit codes: 0 valid (or decoded, when no JWKS is given), 1 invalid, 2 usage or bad input.
'use strict';

const { createPublicKey, verify } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');

const RULES = Object.freeze({
  algorithms: Object.freeze(['RS256', 'ES256', 'EdDSA']),
  keyTypes: Object.freeze({ RS256: 'rsa', ES256: 'ec', EdDSA: 'ed25519' }),
  accessTokenType: 'at+jwt',
  typPattern: /^(application\/)?at\+jwt$/i,
  maxClockSkewSeconds: 30,
  maxTokenLength: 4096,
  kidPattern: /^[A-Za-z0-9_-]{1,128}$/,
  segmentPattern: /^[A-Za-z0-9_-]+$/,
  forbiddenHeaderParams: Object.freeze(['jku', 'jwk', 'x5u', 'x5c', 'x5t', 'crit']),
  roles: Object.freeze(['user', 'admin', 'service']),
  defaultIssuer: 'baton-auth',
  defaultAudience: 'baton',
  defaultAccessTokenTtl: 900,
});

const USAGE = `Usage: npm run -s jwt -- inspect <token|-> [--jwks <url|file>] [--iss <issuer>] [--aud <audience>]

  <token>        a compact JWS; "-" reads it from stdin (keeps it out of argv and shell history)
  --jwks         a JWKS URL (http/https, e.g. http://127.0.0.1:3000/.well-known/jwks.json) or file;
                 without it the token is only decoded and its signature is not checked
  --iss, --aud   expected issuer and audience (default: $JWT_ISSUER / $JWT_AUDIENCE, else
                 ${RULES.defaultIssuer} / ${RULES.defaultAudience})

The longest lifetime (exp - iat) a token may claim is $ACCESS_TOKEN_TTL, else ${RULES.defaultAccessTokenTtl} s, as in
every Baton process.

Exit codes: 0 valid (or decoded, without --jwks), 1 invalid, 2 usage or bad input.`;

/** Bad invocation or input: one line on stderr, exit code 2. */
class InputError extends Error {}

const JWKS_TIMEOUT_MS = 5000;
const B64 = /^[A-Za-z0-9_+/-]*={0,2}$/;

// ---------------------------------------------------------------------------------------------
// Arguments and input

function parseArgs(argv) {
  const args = { jwks: undefined, iss: undefined, aud: undefined, positional: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      args.help = true;
      continue;
    }
    const option = /^--(jwks|iss|aud)(?:=(.*))?$/s.exec(arg);
    if (option) {
      const value = option[2] ?? argv[++i];
      if (value === undefined || value === '') {
        throw new InputError(`--${option[1]} needs a value`);
      }
      args[option[1]] = value;
      continue;
    }
    if (arg.startsWith('--')) {
      throw new InputError(`unknown option ${arg.split('=')[0]}`);
    }
    args.positional.push(arg);
  }
  return args;
}

/** The token from argv or stdin, without surrounding whitespace or a `Bearer ` prefix. */
function readToken(arg) {
  let raw = arg;
  if (arg === '-') {
    try {
      raw = readFileSync(0, 'utf8');
    } catch (err) {
      throw new InputError(`cannot read the token from stdin (${err.code ?? err.message})`);
    }
  }
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  if (token === '') {
    throw new InputError(arg === '-' ? 'stdin held no token' : 'the token is empty');
  }
  if (/\s/.test(token)) {
    throw new InputError('the token contains whitespace; a compact JWS is one unbroken string');
  }
  return token;
}

/** What may be shown of a token: it is a credential, so never all of it. */
function preview(token) {
  return `${token.slice(0, 12)}… (${token.length} characters)`;
}

// ---------------------------------------------------------------------------------------------
// Decoding

function decodeJsonSegment(segment, name) {
  if (segment === '') {
    throw new InputError(`the ${name} segment is empty`);
  }
  if (!B64.test(segment)) {
    throw new InputError(`the ${name} segment is not base64url`);
  }
  let value;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new InputError(`the ${name} does not decode to JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(`the ${name} is JSON but not an object`);
  }
  return value;
}

/** Splits and decodes a compact JWS; refuses anything that is not one (InputError). */
function decode(token) {
  const segments = token.split('.');
  if (segments.length !== 3) {
    const jwe = segments.length === 5 ? ' (5 is a JWE, which Baton does not use)' : '';
    throw new InputError(
      `not a compact JWS: expected 3 dot-separated segments (header.payload.signature), found ${segments.length}${jwe}`,
    );
  }
  const header = decodeJsonSegment(segments[0], 'header');
  const claims = decodeJsonSegment(segments[1], 'payload');
  if (!B64.test(segments[2])) {
    throw new InputError('the signature segment is not base64url');
  }
  return { token, segments, header, claims };
}

// ---------------------------------------------------------------------------------------------
// Keys

function keySourceLabel(source) {
  if (!/^https?:\/\//i.test(source)) {
    return source;
  }
  const url = new URL(source);
  url.username = '';
  url.password = '';
  return url.toString();
}

/** Reads a JWKS from an http(s) URL or a file; any failure is bad input. */
async function loadJwks(source, baseDir) {
  let text;
  if (/^https?:\/\//i.test(source)) {
    let url;
    try {
      url = new URL(source);
    } catch {
      throw new InputError(`--jwks ${JSON.stringify(source)} is not a valid URL`);
    }
    let res;
    try {
      res = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(JWKS_TIMEOUT_MS),
      });
    } catch (err) {
      const why =
        err?.name === 'TimeoutError'
          ? `no answer within ${JWKS_TIMEOUT_MS / 1000} s`
          : causeOf(err);
      throw new InputError(`cannot fetch the JWKS from ${keySourceLabel(source)}: ${why}`);
    }
    if (!res.ok) {
      throw new InputError(`the JWKS URL ${keySourceLabel(source)} answered HTTP ${res.status}`);
    }
    text = await res.text();
  } else {
    const file = resolve(baseDir, source);
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new InputError(`cannot read the JWKS file ${file}: ${err.code ?? err.message}`);
    }
  }
  let jwks;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw new InputError(`the JWKS from ${keySourceLabel(source)} is not JSON`);
  }
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys)) {
    throw new InputError(`the JWKS from ${keySourceLabel(source)} has no "keys" array`);
  }
  return jwks;
}

function causeOf(err) {
  const cause = err?.cause;
  return cause?.code ?? cause?.message ?? err?.message ?? String(err);
}

/** A JWK as libs/auth's KeyStore would take it (plus the curve check jsonwebtoken makes). */
function usableKey(jwk) {
  if (typeof jwk !== 'object' || jwk === null) {
    return { problem: 'the entry is not an object' };
  }
  if (!RULES.algorithms.includes(jwk.alg)) {
    const alg = jwk.alg === undefined ? 'no "alg"' : `"alg" ${JSON.stringify(jwk.alg)}`;
    return {
      problem: `it has ${alg}; Baton uses only keys marked ${RULES.algorithms.join(', ')}`,
    };
  }
  if ('d' in jwk) {
    return { problem: 'it is a private key ("d" present); a JWKS must hold public keys only' };
  }
  let key;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch (err) {
    return { problem: `it is not a valid public JWK (${err.message})` };
  }
  const expected = RULES.keyTypes[jwk.alg];
  if (key.asymmetricKeyType !== expected) {
    return {
      problem: `${jwk.alg} needs an ${expected === 'ed25519' ? 'Ed25519' : expected.toUpperCase()} key, this one is ${key.asymmetricKeyType}`,
    };
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (jwk.alg === 'ES256' && details.namedCurve !== 'prime256v1') {
    return { problem: `ES256 needs curve P-256, this key is on ${details.namedCurve}` };
  }
  const description = {
    rsa: `RSA ${details.modulusLength}-bit, ${jwk.alg}`,
    ec: `EC P-256, ${jwk.alg}`,
    ed25519: `Ed25519, ${jwk.alg}`,
  }[expected];
  return { key, alg: jwk.alg, description };
}

/** The key for `kid`: the last usable entry with that kid wins, as in KeyStore. */
function findKey(jwks, kid) {
  let found;
  let problem;
  for (const jwk of jwks.keys) {
    if (jwk?.kid !== kid) {
      continue;
    }
    const candidate = usableKey(jwk);
    if (candidate.key) {
      found = candidate;
    } else {
      problem = candidate.problem;
    }
  }
  return found ?? { problem };
}

function verifySignature(decoded, key, alg) {
  const input = Buffer.from(`${decoded.segments[0]}.${decoded.segments[1]}`);
  const signature = Buffer.from(decoded.segments[2], 'base64url');
  try {
    if (alg === 'EdDSA') {
      return verify(null, input, key, signature);
    }
    return alg === 'ES256'
      ? verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature)
      : verify('sha256', input, key, signature);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Rules

const show = (value) => (value === undefined ? 'none' : JSON.stringify(value));
const isTime = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

function duration(seconds) {
  const s = Math.abs(seconds);
  if (s < 90) {
    return `${Math.floor(s)} s`;
  }
  if (s < 90 * 60) {
    return `${Math.floor(s / 60)} min`;
  }
  if (s < 48 * 3600) {
    return `${Math.floor(s / 3600)} h`;
  }
  return `${Math.floor(s / 86400)} d`;
}

/** `expires in 14 min`, `expired 3 h ago`, `issued 2 min ago`… */
function relative(claim, time, now) {
  const delta = time - now;
  const future = delta > 0;
  if (claim === 'iat' && Math.abs(delta) < 1) {
    return 'issued just now';
  }
  switch (claim) {
    case 'exp':
      return future ? `expires in ${duration(delta)}` : `expired ${duration(delta)} ago`;
    case 'nbf':
      return future
        ? `not valid for another ${duration(delta)}`
        : `valid since ${duration(delta)} ago`;
    default:
      return future ? `issued ${duration(delta)} in the future` : `issued ${duration(delta)} ago`;
  }
}

function isoTime(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return undefined;
  }
  const date = new Date(value * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * Every rule Baton applies, each with its outcome: `ok`, `fail` (with the reason) or `skip`.
 * Unlike the verifier, which stops at the first failure, this reports all of them.
 */
function checkToken(decoded, { jwks, issuer, audience, now, accessTokenTtl }) {
  const { token, segments, header, claims } = decoded;
  const checks = [];
  const add = (name, ok, detail) => checks.push({ name, status: ok ? 'ok' : 'fail', detail });
  const skip = (name, detail) => checks.push({ name, status: 'skip', detail });
  const skew = RULES.maxClockSkewSeconds;

  // Shape and header: keys/token-header.ts
  add(
    'size',
    token.length <= RULES.maxTokenLength,
    token.length <= RULES.maxTokenLength
      ? `${token.length} characters (limit ${RULES.maxTokenLength})`
      : `${token.length} characters, over the ${RULES.maxTokenLength}-character limit`,
  );
  const badSegments = ['header', 'payload', 'signature'].filter(
    (_, i) => !RULES.segmentPattern.test(segments[i]),
  );
  add(
    'encoding',
    badSegments.length === 0,
    badSegments.length === 0
      ? 'three non-empty base64url segments'
      : `${badSegments.join(', ')} ${badSegments.length === 1 ? 'is' : 'are'} empty or not unpadded base64url`,
  );
  const algOk = RULES.algorithms.includes(header.alg);
  add(
    'alg',
    algOk,
    algOk
      ? `${header.alg} (allowlist ${RULES.algorithms.join(', ')})`
      : `${show(header.alg)} is not on the allowlist (${RULES.algorithms.join(', ')}); Baton never takes the algorithm from the token`,
  );
  const kidOk = typeof header.kid === 'string' && RULES.kidPattern.test(header.kid);
  add(
    'kid',
    kidOk,
    kidOk
      ? show(header.kid)
      : `${show(header.kid)} is missing or malformed (1-128 characters of A-Z a-z 0-9 _ -)`,
  );
  const forbidden = RULES.forbiddenHeaderParams.filter((name) => name in header);
  add(
    'header params',
    forbidden.length === 0,
    forbidden.length === 0
      ? `none of ${RULES.forbiddenHeaderParams.join(', ')}`
      : `carries ${forbidden.join(', ')}: Baton refuses tokens that bring their own key or critical extensions`,
  );

  // Key and signature: keys/key-store.ts, then jsonwebtoken
  if (!jwks) {
    skip('key', 'no --jwks given');
    skip('signature', 'no --jwks given');
  } else if (typeof header.kid !== 'string') {
    skip('key', 'the header names no kid');
    skip('signature', 'no key to verify with');
  } else {
    const found = findKey(jwks, header.kid);
    if (!found.key) {
      const kids = jwks.keys.map((k) => k?.kid).filter((k) => typeof k === 'string');
      add(
        'key',
        false,
        found.problem
          ? `kid ${show(header.kid)} is in the JWKS but unusable: ${found.problem}`
          : `no key with kid ${show(header.kid)} in the JWKS (it holds ${kids.length ? kids.map(show).join(', ') : 'no kids'})`,
      );
      skip('signature', 'no usable key to verify with');
    } else {
      const match = found.alg === header.alg;
      add(
        'key',
        match,
        match
          ? `${show(header.kid)}: ${found.description}`
          : `the header says ${show(header.alg)} but key ${show(header.kid)} is ${found.alg}`,
      );
      const valid = verifySignature(decoded, found.key, found.alg);
      add(
        'signature',
        valid,
        valid
          ? `verifies with key ${show(header.kid)} (${found.alg})`
          : `does not verify with key ${show(header.kid)} (${found.alg}): altered, or signed by another key`,
      );
    }
  }

  // Claims: jsonwebtoken (iss, aud, exp, nbf with 30 s tolerance), then jwt.strategy.ts
  const typOk = typeof header.typ === 'string' && RULES.typPattern.test(header.typ);
  add(
    'typ',
    typOk,
    typOk
      ? show(header.typ)
      : `must be "${RULES.accessTokenType}", the token has ${show(header.typ)}`,
  );
  add(
    'iss',
    claims.iss === issuer,
    claims.iss === issuer
      ? show(issuer)
      : `expected ${show(issuer)}, the token has ${show(claims.iss)}`,
  );
  const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const audOk = auds.includes(audience);
  add(
    'aud',
    audOk,
    audOk ? show(claims.aud) : `expected ${show(audience)}, the token has ${show(claims.aud)}`,
  );

  const { exp, nbf, iat } = claims;
  if (exp === undefined) {
    add('exp', false, 'missing: Baton requires an expiry');
  } else if (!isTime(exp)) {
    add('exp', false, `${show(exp)} is not a NumericDate (whole seconds since the epoch)`);
  } else if (now >= exp + skew) {
    add('exp', false, `${relative('exp', exp, now)} (beyond the ${skew} s tolerance)`);
  } else {
    add(
      'exp',
      true,
      now >= exp
        ? `${relative('exp', exp, now)}, within the ${skew} s tolerance`
        : relative('exp', exp, now),
    );
  }
  if (nbf === undefined) {
    skip('nbf', 'not set (optional)');
  } else if (typeof nbf !== 'number') {
    add('nbf', false, `${show(nbf)} is not a number`);
  } else {
    add(
      'nbf',
      nbf <= now + skew,
      nbf <= now + skew
        ? relative('nbf', nbf, now)
        : `${relative('nbf', nbf, now)} (beyond the ${skew} s tolerance)`,
    );
  }
  if (iat === undefined) {
    add('iat', false, 'missing: Baton requires the issue time');
  } else if (!isTime(iat)) {
    add('iat', false, `${show(iat)} is not a NumericDate (whole seconds since the epoch)`);
  } else {
    add(
      'iat',
      iat <= now + skew,
      iat <= now + skew
        ? relative('iat', iat, now)
        : `${relative('iat', iat, now)} (beyond the ${skew} s tolerance)`,
    );
  }
  if (isTime(exp) && isTime(iat)) {
    const lifetime = exp - iat;
    add(
      'lifetime',
      lifetime <= accessTokenTtl,
      lifetime <= accessTokenTtl
        ? `${lifetime} s, within ACCESS_TOKEN_TTL (${accessTokenTtl} s)`
        : `${lifetime} s, longer than ACCESS_TOKEN_TTL (${accessTokenTtl} s): Baton issues none so long`,
    );
  }
  for (const name of ['sub', 'jti', 'sid']) {
    const value = claims[name];
    const ok = typeof value === 'string' && value.length > 0;
    add(
      name,
      ok,
      ok
        ? show(value)
        : `${value === undefined ? 'missing' : `${show(value)} is not a non-empty string`}: required`,
    );
  }
  const roles = claims.roles;
  const rolesOk = Array.isArray(roles) && roles.every((r) => RULES.roles.includes(r));
  add(
    'roles',
    rolesOk,
    rolesOk
      ? show(roles)
      : `${roles === undefined ? 'missing' : show(roles)}: must be an array of ${RULES.roles.map(show).join(', ')}`,
  );
  skip('revocation', 'not checked here: the list lives in the NATS KV bucket baton_revocations');
  return checks;
}

// ---------------------------------------------------------------------------------------------
// Output

function indent(text, by = '  ') {
  return text
    .split('\n')
    .map((line) => by + line)
    .join('\n');
}

function render(decoded, checks, { jwksLabel, issuer, audience, now }) {
  const { token, header, claims } = decoded;
  const out = [];
  out.push(`Token   ${preview(token)}`, '');
  out.push('Header', indent(JSON.stringify(header, null, 2)), '');
  out.push('Claims', indent(JSON.stringify(claims, null, 2)), '');
  out.push('Times');
  for (const claim of ['iat', 'nbf', 'exp']) {
    const value = claims[claim];
    if (value === undefined) {
      out.push(`  ${claim}  -`);
      continue;
    }
    const iso = isoTime(value);
    out.push(
      iso
        ? `  ${claim}  ${iso}  (${relative(claim, value, now)})`
        : `  ${claim}  ${show(value)}  (not a NumericDate)`,
    );
  }
  if (isTime(claims.iat) && isTime(claims.exp)) {
    out.push(`  lifetime ${duration(claims.exp - claims.iat)}`);
  }
  out.push('');
  out.push(`Checks  (iss ${show(issuer)}, aud ${show(audience)}, JWKS ${jwksLabel ?? 'none'})`);
  const label = { ok: 'ok  ', fail: 'FAIL', skip: '--  ' };
  for (const c of checks) {
    out.push(`  ${label[c.status]}  ${c.name.padEnd(13)} ${c.detail}`);
  }
  out.push('');
  const failed = checks.filter((c) => c.status === 'fail').map((c) => c.name);
  if (!jwksLabel) {
    out.push(
      failed.length
        ? `Result  DECODED: signature not verified (no --jwks); Baton would refuse it anyway: ${failed.join(', ')}`
        : 'Result  DECODED: signature not verified (no --jwks); the other rules pass',
    );
  } else if (failed.length) {
    out.push(
      `Result  INVALID: ${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.join(', ')}`,
    );
  } else {
    out.push('Result  VALID: Baton would accept this token unless it has been revoked');
  }
  return { text: out.join('\n') + '\n', failed };
}

// ---------------------------------------------------------------------------------------------

async function inspect(args, io) {
  if (args.positional.length !== 2) {
    throw new InputError(
      args.positional.length < 2
        ? 'inspect needs a token (or "-" to read it from stdin)'
        : 'inspect takes one token',
    );
  }
  const token = readToken(args.positional[1]);
  const decoded = decode(token);
  const issuer = args.iss ?? (io.env.JWT_ISSUER || RULES.defaultIssuer);
  const audience = args.aud ?? (io.env.JWT_AUDIENCE || RULES.defaultAudience);
  // `npm run` starts scripts in the package root; relative paths mean the caller's directory.
  const baseDir = (io.env.npm_lifecycle_event === 'jwt' && io.env.INIT_CWD) || io.cwd;
  const jwks = args.jwks ? await loadJwks(args.jwks, baseDir) : undefined;
  const now = Math.floor(io.now() / 1000);
  const ttl = Number(io.env.ACCESS_TOKEN_TTL);
  const accessTokenTtl = Number.isSafeInteger(ttl) && ttl > 0 ? ttl : RULES.defaultAccessTokenTtl;
  const checks = checkToken(decoded, { jwks, issuer, audience, now, accessTokenTtl });
  const { text, failed } = render(decoded, checks, {
    jwksLabel: args.jwks ? keySourceLabel(args.jwks) : undefined,
    issuer,
    audience,
    now,
  });
  io.stdout.write(text);
  return jwks && failed.length ? 1 : 0;
}

/** Runs the CLI; resolves with the exit code. Never throws. */
async function main(argv, io = defaultIo()) {
  try {
    const args = parseArgs(argv);
    if (args.help || argv.length === 0) {
      (args.help ? io.stdout : io.stderr).write(`${USAGE}\n`);
      return args.help ? 0 : 2;
    }
    if (args.positional[0] !== 'inspect') {
      throw new InputError(
        args.positional[0] === undefined
          ? 'no command given'
          : `unknown command ${JSON.stringify(args.positional[0])}`,
      );
    }
    return await inspect(args, io);
  } catch (err) {
    if (err instanceof InputError) {
      io.stderr.write(`jwt: ${err.message}\n`);
      if (/^(unknown|no command|inspect (needs|takes)|--)/.test(err.message)) {
        io.stderr.write('Run with --help for usage.\n');
      }
      return 2;
    }
    io.stderr.write(`jwt: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
}

function defaultIo() {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    now: Date.now,
  };
}

module.exports = { RULES, decode, checkToken, main };

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
