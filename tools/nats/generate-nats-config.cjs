// `npm run nats:config`: writes deploy/nats/nats-server.conf (what docker-compose.yml runs) from the
// per-service permissions in libs/contracts/src/lib/nats-permissions.ts, with a user for every
// service in tools/services.json too. Runs on the build output (`npm run nats:config` builds first).
//
//   node tools/nats/generate-nats-config.cjs [--out <file>] [--check]
//
// --check writes nothing and fails when the file is not what would be written (for CI).
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');

const root = join(__dirname, '../..');
if (!existsSync(join(root, 'dist/libs/contracts/src/index.js'))) {
  console.error('dist/ is missing: run `npm run build` first (`npm run nats:config` does)');
  process.exit(1);
}
require('../scripts/register-paths.cjs');
const { deployNatsServerConfig } = require('@baton/contracts');

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : join(root, 'deploy/nats/nats-server.conf');
const check = args.includes('--check');

const registry = join(root, 'tools/services.json');
const generated = existsSync(registry) ? JSON.parse(readFileSync(registry, 'utf8')).services : [];
const config = deployNatsServerConfig(generated);

const current = existsSync(out) ? readFileSync(out, 'utf8') : undefined;
if (check) {
  if (current !== config) {
    console.error(`${relative(root, out)} is out of date: run \`npm run nats:config\``);
    process.exit(1);
  }
  console.log(`${relative(root, out)} is up to date`);
} else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, config);
  console.log(
    `wrote ${relative(root, out)} (users: ${['auth', 'profile', 'orders', 'gateway', ...generated].join(', ')})`,
  );
}
