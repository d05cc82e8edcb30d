import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const ROOT = resolve(__dirname, '../../../../..');
/** What a fresh clone holds that the generator, the build and the tests need. */
const COPIED = [
  'apps',
  'libs',
  'tools',
  'package.json',
  'package-lock.json',
  'nx.json',
  'tsconfig.base.json',
  'tsconfig.build.json',
  'tsconfig.json',
  'jest.config.ts',
  'jest.preset.js',
  'eslint.config.mjs',
  '.prettierrc',
  '.prettierignore',
  'docker-compose.yml',
];
const SKIPPED = new Set(['node_modules', 'dist', '.data', 'coverage', 'tmp', '.nx']);

// Jest ignores a project's testTimeout under the root config (`npm test`), so it is set here.
const SETUP_TIMEOUT_MS = 150_000;
const TEST_TIMEOUT_MS = 300_000;

interface JestAssertion {
  title: string;
  fullName: string;
  status: string;
  failureMessages: string[];
}

interface JestReport {
  success: boolean;
  numTotalTests: number;
  numFailedTests: number;
  testResults: {
    name: string;
    status: string;
    message: string;
    assertionResults: JestAssertion[];
  }[];
}

interface Step {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * The generator as a newcomer meets it: in a copy of the workspace (sharing node_modules), run
 * `nx g @baton/tools:service`, build, and run the new service's own unit and e2e specs untouched.
 */
describe('nx g @baton/tools:service in a copy of the workspace', () => {
  const name = freshName();
  let scratch: string;
  let generated: Step;
  let built: Step | undefined;

  const env = (): NodeJS.ProcessEnv => {
    // A clean slate for the tools run inside: no hints from the Jest or Nx run around this one.
    const own = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !/^(JEST_|NX_)/.test(key)),
    );
    return { ...own, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NO_COLOR: '1', FORCE_COLOR: '0' };
  };

  const step = async (file: string, args: string[]): Promise<Step> => {
    try {
      const { stdout, stderr } = await run(file, args, {
        cwd: scratch,
        env: env(),
        maxBuffer: 64 * 1024 * 1024,
        timeout: TEST_TIMEOUT_MS,
      });
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const failed = err as { stdout?: string; stderr?: string; code?: number | string };
      return {
        stdout: failed.stdout ?? '',
        stderr: failed.stderr ?? String(err),
        code: typeof failed.code === 'number' ? failed.code : 1,
      };
    }
  };

  /** Fails with what the step printed, so that the failure says what broke. */
  const expectSuccess = (what: string, result: Step | undefined): void => {
    if (!result) {
      throw new Error(`${what} did not run: an earlier step failed`);
    }
    if (result.code !== 0) {
      const output = `${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`;
      throw new Error(
        `${what} failed in ${scratch} (exit ${result.code}; BATON_KEEP_SCRATCH=1 keeps that copy):\n${output}`,
      );
    }
  };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'baton-generator-'));
    for (const entry of COPIED) {
      if (existsSync(join(ROOT, entry))) {
        cpSync(join(ROOT, entry), join(scratch, entry), {
          recursive: true,
          filter: (source) => !SKIPPED.has(basename(source)),
        });
      }
    }
    symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');

    generated = await step('npx', ['nx', 'g', '@baton/tools:service', name, '--no-interactive']);
    if (generated.code === 0) {
      built = await step('npm', ['run', 'build']);
    }
  }, SETUP_TIMEOUT_MS);

  afterAll(() => {
    if (scratch && !process.env['BATON_KEEP_SCRATCH']) {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('should generate the service and register it with npm start, the harness and compose', () => {
    expectSuccess(`nx g @baton/tools:service ${name}`, generated);
    expect(existsSync(join(scratch, 'apps', name, 'src', 'main.ts'))).toBe(true);
    const registry = JSON.parse(readFileSync(join(scratch, 'tools/services.json'), 'utf8')) as {
      services: string[];
    };
    expect(registry.services).toContain(name);
    if (existsSync(join(scratch, 'docker-compose.yml'))) {
      expect(readFileSync(join(scratch, 'docker-compose.yml'), 'utf8')).toContain(
        `dist/apps/${name}/src/main.js`,
      );
    }
  });

  it('should build with the rest of the workspace', () => {
    expectSuccess('npm run build', built);
    expect(existsSync(join(scratch, 'dist', 'apps', name, 'src', 'main.js'))).toBe(true);
  });

  it(
    'should pass its own unit spec and e2e spec without a hand edit',
    async () => {
      expectSuccess('npm run build', built);
      const output = join(scratch, 'jest-report.json');

      const tested = await step('npx', [
        'jest',
        '--selectProjects',
        name,
        '--ci',
        '--json',
        `--outputFile=${output}`,
      ]);

      if (!existsSync(output)) {
        expectSuccess('jest', { ...tested, code: tested.code || 1 });
      }
      const report = JSON.parse(readFileSync(output, 'utf8')) as JestReport;
      const failures = report.testResults
        .filter((file) => file.status !== 'passed')
        .map((file) => `${file.name}\n${file.message}`)
        .join('\n');
      if (!report.success) {
        expectSuccess(`jest (${failures || 'no failed suite reported'})`, {
          ...tested,
          code: tested.code || 1,
        });
      }

      const suite = (suffix: string) => {
        const file = report.testResults.find((result) => result.name.endsWith(suffix));
        expect(file).toBeDefined();
        return file?.assertionResults ?? [];
      };
      const unit = suite(`apps/${name}/src/app/${name}.service.spec.ts`);
      const e2e = suite(`apps/${name}/src/${name}.e2e-spec.ts`);
      expect(unit.length).toBeGreaterThan(0);
      expect(unit.every((test) => test.status === 'passed')).toBe(true);

      const passed = (title: RegExp) =>
        e2e.filter((test) => title.test(test.title)).map((test) => test.status);
      expect(passed(/without a token with 401/)).toEqual(['passed']);
      expect(passed(/key auth never published with 401/)).toEqual(['passed']);
      expect(passed(/valid token and carry the caller’s identity on to profile/)).toEqual([
        'passed',
      ]);
      expect(e2e.every((test) => test.status === 'passed')).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );
});

/** `inventory`, unless the workspace already has such an app. */
function freshName(): string {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? 'inventory' : `inventory-${n}`;
    if (!existsSync(join(ROOT, 'apps', candidate))) {
      return candidate;
    }
  }
}
