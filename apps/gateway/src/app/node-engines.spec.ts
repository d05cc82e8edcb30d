import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { minVersion, satisfies } from 'semver';

/*
 * package.json's `engines` is the Node.js the services run on. Every locked package must run there
 * too, at its lowest version and at the one running now: `.npmrc` has npm refuse an install that
 * breaks this (`engine-strict`), and this spec says which package did.
 */

interface Manifest {
  engines?: { node?: unknown };
}

const root = join(__dirname, '../../../..');
const read = <T>(file: string): T => JSON.parse(readFileSync(join(root, file), 'utf8')) as T;

describe('the Node.js versions package.json admits', () => {
  const admitted = read<Manifest>('package.json').engines?.node as string;
  const lock = read<{ packages: Record<string, Manifest> }>('package-lock.json');
  const versions = [minVersion(admitted)?.version ?? '', process.versions.node];

  it('should have a lowest one, and include the one running the tests', () => {
    expect(versions[0]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(satisfies(process.versions.node, admitted)).toBe(true);
  });

  it.each(versions)('should run every locked package on %s', (version) => {
    const refusing = Object.entries(lock.packages)
      .filter(([, pkg]) => typeof pkg.engines?.node === 'string')
      .filter(([, pkg]) => !satisfies(version, pkg.engines?.node as string))
      .map(([path, pkg]) => `${path} (${String(pkg.engines?.node)})`);

    expect(Object.keys(lock.packages).length).toBeGreaterThan(100);
    expect(refusing).toEqual([]);
  });
});
