// `npm start`: runs auth, profile, orders and gateway on the embedded defaults (SQLite files under
// .data/), starting a local `nats-server -js` when nothing answers at NATS_URL.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import nodeOptions from './node-options.cjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const natsUrl = process.env.NATS_URL || 'nats://127.0.0.1:4222';
const children = [];
let stopping = false;

const log = (line) => console.log(`[start] ${line}`);

async function natsAnswers(url) {
  try {
    const nc = await connect({ servers: url.split(','), reconnect: false, timeout: 1000 });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

function natsBinary() {
  for (const bin of [
    process.env.NATS_SERVER_BIN,
    'nats-server',
    '/usr/sbin/nats-server',
    '/usr/bin/nats-server',
  ]) {
    if (bin && spawnSync(bin, ['--version']).status === 0) {
      return bin;
    }
  }
  return undefined;
}

async function ensureNats() {
  if (await natsAnswers(natsUrl)) {
    log(`using NATS at ${natsUrl}`);
    return;
  }
  const url = new URL(natsUrl.split(',')[0]);
  if (natsUrl.includes(',') || !['127.0.0.1', 'localhost'].includes(url.hostname)) {
    throw new Error(
      `nothing answers at NATS_URL=${natsUrl}, and it is not a local address to start one on`,
    );
  }
  const bin = natsBinary();
  if (!bin) {
    throw new Error(
      'nats-server is not installed and nothing answers at ' +
        natsUrl +
        '.\n' +
        '  Debian/Ubuntu: sudo apt-get install -y nats-server\n' +
        '  macOS:         brew install nats-server\n' +
        '  or point NATS_URL at a running server, or set NATS_SERVER_BIN to the binary.',
    );
  }
  const storeDir = join(root, '.data', 'nats');
  mkdirSync(storeDir, { recursive: true });
  const port = url.port || '4222';
  log(`starting nats-server -js on ${url.hostname}:${port} (store ${storeDir})`);
  run('nats', bin, ['-a', url.hostname, '-p', port, '-js', '-sd', storeDir]);
  for (let i = 0; i < 100; i++) {
    if (await natsAnswers(natsUrl)) {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the local nats-server did not start');
}

function run(name, command, args, env = process.env, readyMarker) {
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const prefix = `[${name}]`.padEnd(10);
  let ready;
  const readyPromise = new Promise((resolve) => (ready = resolve));
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        process.stdout.write(`${prefix} ${line}\n`);
        if (readyMarker && line.includes(readyMarker)) {
          ready();
        }
      }
    });
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      log(`${name} exited (${signal ?? code}); stopping everything`);
      shutdown(1);
    }
  });
  return readyPromise;
}

function shutdown(code) {
  if (stopping) {
    return;
  }
  stopping = true;
  for (const child of [...children].reverse()) {
    child.kill('SIGTERM');
  }
  setTimeout(() => process.exit(code), 5000).unref();
  Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))),
  ).then(() => process.exit(code));
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

async function main() {
  await ensureNats();
  const secrets = {
    orders: randomBytes(24).toString('base64url'),
    profile: randomBytes(24).toString('base64url'),
  };
  const env = {
    ...process.env,
    NATS_URL: natsUrl,
    NODE_OPTIONS: nodeOptions.serviceNodeOptions(process.env.NODE_OPTIONS),
    SERVICE_CREDENTIALS:
      process.env.SERVICE_CREDENTIALS || `orders:${secrets.orders},profile:${secrets.profile}`,
  };
  const service = (name, marker) =>
    run(
      name,
      process.execPath,
      [
        '-r',
        join(root, 'tools/scripts/register-paths.cjs'),
        join(root, 'dist/apps', name, 'src/main.js'),
      ],
      {
        ...env,
        ...(secrets[name] && !process.env.SERVICE_CREDENTIALS
          ? { SERVICE_SECRET: secrets[name] }
          : {}),
      },
      marker,
    );
  await service('auth', 'listening on NATS');
  // Services made by `nx g @baton/tools:service` are listed in tools/services.json.
  const registry = join(root, 'tools/services.json');
  const generated = existsSync(registry) ? JSON.parse(readFileSync(registry, 'utf8')).services : [];
  await Promise.all(
    ['profile', 'orders', ...generated].map((name) => service(name, 'listening on NATS')),
  );
  await service('gateway', 'gateway listening');
  log(`Baton is up: http://127.0.0.1:${process.env.GATEWAY_PORT || 3000} (Ctrl-C stops it)`);
}

main().catch((err) => {
  console.error(`[start] ${err.message}`);
  shutdown(1);
});
