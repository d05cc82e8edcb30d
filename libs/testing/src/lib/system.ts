import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from './free-port';

export const SERVICES = ['auth', 'profile', 'orders', 'gateway'] as const;
/** A core service, or one made by `nx g @baton/tools:service`. */
export type ServiceName = (typeof SERVICES)[number] | (string & {});

/** The services made by `nx g @baton/tools:service`, listed in tools/services.json. */
export function generatedServices(root = workspaceRoot()): string[] {
  const file = join(root, 'tools', 'services.json');
  return existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { services: string[] }).services
    : [];
}

/** The repository root (the folder that holds nx.json). */
export function workspaceRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'nx.json'))) {
    const up = dirname(dir);
    if (up === dir) {
      throw new Error('workspace root (nx.json) not found');
    }
    dir = up;
  }
  return dir;
}

export interface SystemOptions {
  natsUrl: string;
  /** Store environment from createTestDatabase(). */
  storeEnv: Record<string, string>;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Modules each service preloads with `node -r` (benchmarks swap in pass-through guards this way). */
  preload?: string[];
}

export interface RunningSystem {
  gatewayUrl: string;
  admin: { email: string; password: string };
  /** The service credentials auth was given (SERVICE_CREDENTIALS). */
  serviceSecrets: { orders: string; profile: string };
  /** Everything each service wrote to stdout and stderr. */
  logs: Record<ServiceName, string[]>;
  /** Process id of each running service. */
  pid(service: ServiceName): number | undefined;
  start(service: ServiceName): Promise<void>;
  stop(service?: ServiceName): Promise<void>;
}

/**
 * Boots the real services from the compiled build (`npm run build`) as child processes, the way
 * `npm start` runs them, and waits until the gateway reports every one of them healthy.
 */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const root = workspaceRoot();
  const mainOf = (s: ServiceName) => join(root, 'dist', 'apps', s, 'src', 'main.js');
  if (!existsSync(mainOf('gateway'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
  const port = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const admin = { email: 'admin@baton.test', password: randomBytes(12).toString('base64url') };
  const secrets = {
    orders: randomBytes(18).toString('base64url'),
    profile: randomBytes(18).toString('base64url'),
  };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    NODE_ENV: 'test',
    NO_COLOR: '1',
    NATS_URL: options.natsUrl,
    GATEWAY_PORT: String(port),
    BATON_ADMIN_EMAIL: admin.email,
    BATON_ADMIN_PASSWORD: admin.password,
    SERVICE_CREDENTIALS: `orders:${secrets.orders},profile:${secrets.profile}`,
    ...options.storeEnv,
    ...options.env,
  };
  const generated = generatedServices(root);
  const all: ServiceName[] = [...SERVICES, ...generated];
  const children = new Map<ServiceName, ChildProcess>();
  const logs = Object.fromEntries(all.map((s) => [s, [] as string[]])) as Record<
    ServiceName,
    string[]
  >;

  const start = async (service: ServiceName): Promise<void> => {
    const child = spawn(
      process.execPath,
      [
        '-r',
        join(root, 'tools/scripts/register-paths.cjs'),
        ...(options.preload ?? []).flatMap((m) => ['-r', m]),
        mainOf(service),
      ],
      {
        cwd: root,
        env: {
          ...env,
          ...(service in secrets ? { SERVICE_SECRET: secrets[service as 'orders'] } : {}),
        },
      },
    );
    children.set(service, child);
    const from = logs[service].length;
    child.stdout?.on('data', (d: Buffer) => logs[service].push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => logs[service].push(d.toString()));
    await waitForLog(
      child,
      logs[service],
      from,
      service === 'gateway' ? 'gateway listening' : 'listening on NATS',
    );
  };

  const stop = async (service?: ServiceName): Promise<void> => {
    const targets = service ? [service] : [...all].reverse();
    await Promise.all(
      targets.map(async (s) => {
        const child = children.get(s);
        children.delete(s);
        if (child && child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
      }),
    );
  };

  try {
    // auth first: it creates the signing key and the admin the others rely on
    await start('auth');
    await Promise.all(['profile', 'orders', ...generated, 'gateway'].map((s) => start(s)));
    await waitForHealthy(gatewayUrl);
  } catch (err) {
    await stop();
    const tail = all.map((s) => `--- ${s}\n${logs[s].join('').slice(-2000)}`).join('\n');
    throw new Error(`${String(err)}\n${tail}`);
  }
  const pid = (service: ServiceName) => children.get(service)?.pid;
  return { gatewayUrl, admin, serviceSecrets: secrets, logs, pid, start, stop };
}

function waitForLog(
  child: ChildProcess,
  lines: string[],
  from: number,
  marker: string,
  timeoutMs = 30_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for "${marker}"`)),
      timeoutMs,
    );
    const check = () => {
      if (lines.slice(from).join('').includes(marker)) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with code ${code} before "${marker}"`));
    });
    check();
  });
}

async function waitForHealthy(gatewayUrl: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${gatewayUrl}/health`);
      last = await res.text();
      if (res.status === 200) {
        return;
      }
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the system did not become healthy: ${last}`);
}
