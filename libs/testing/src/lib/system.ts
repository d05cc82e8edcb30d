import { spawn } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
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

/**
 * The NODE_OPTIONS the services of the checkout at `root` run with (tools/scripts/node-options.cjs,
 * as `npm start` passes them); none for a checkout without that file.
 */
export function serviceNodeOptions(root = workspaceRoot()): string | undefined {
  const file = join(root, 'tools', 'scripts', 'node-options.cjs');
  if (!existsSync(file)) {
    return undefined;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const options = require(file) as { serviceNodeOptions(own?: string): string };
  return options.serviceNodeOptions();
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
  /** NATS server URL, or several comma-separated (a cluster). */
  natsUrl: string;
  /** Store environment from createTestDatabase(). */
  storeEnv: Record<string, string>;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Extra environment for one service (over `env`), e.g. its own DATABASE_URL. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Processes per service (default 1); replicas share their service's NATS queue group. */
  replicas?: Partial<Record<ServiceName, number>>;
  /** Modules each service preloads with `node -r` (benchmarks swap in pass-through guards this way). */
  preload?: string[];
  /** The checkout whose build (`dist/`) to run; this one by default (benchmarks compare two). */
  root?: string;
  /** The `node` the services run on; this process's by default (benchmarks compare runtimes). */
  node?: string;
  /**
   * Write each service's stdout and stderr to `<logDir>/<service>#<replica>.log` instead of keeping
   * them in `logs` (benchmarks: the harness then neither reads nor holds every line).
   */
  logDir?: string;
}

export interface RunningSystem {
  gatewayUrl: string;
  admin: { email: string; password: string };
  /** The service credentials auth was given (SERVICE_CREDENTIALS). */
  serviceSecrets: { orders: string; profile: string };
  /** Everything each service wrote to stdout and stderr (all its replicas); empty with `logDir`. */
  logs: Record<ServiceName, string[]>;
  /** How many replicas of the service this system runs. */
  replicas(service: ServiceName): number;
  /** Process id of a running service (its first replica unless told). */
  pid(service: ServiceName, replica?: number): number | undefined;
  /** Starts a service's replica, or every replica of it that is not running; resolves once it listens. */
  start(service: ServiceName, replica?: number): Promise<void>;
  /** Stops a service's replica, every replica of a service, or everything (SIGTERM, SIGKILL after 5 s). */
  stop(service?: ServiceName, replica?: number): Promise<void>;
  /** Sends a signal to one replica (the first unless told) and resolves once it has exited. */
  kill(service: ServiceName, signal?: NodeJS.Signals, replica?: number): Promise<void>;
  /** Sends a signal to one replica and returns at once (`SIGSTOP` freezes it, `SIGCONT` resumes it). */
  signal(service: ServiceName, signal: NodeJS.Signals, replica?: number): void;
  /** Resolves once the gateway's GET /health answers 200. */
  healthy(timeoutMs?: number): Promise<void>;
}

/**
 * Boots the real services from the compiled build (`npm run build`) as child processes, the way
 * `npm start` runs them (or several replicas of some), and waits until the gateway reports every
 * one of them healthy.
 */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const root = options.root ?? workspaceRoot();
  const mainOf = (s: ServiceName) => join(root, 'dist', 'apps', s, 'src', 'main.js');
  if (!existsSync(mainOf('gateway'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
  const port = await freePort();
  // A gateway given a certificate serves HTTPS only (see waitForHealthy).
  const tls = Boolean(
    options.env?.['TLS_CERT_FILE'] ?? options.serviceEnv?.gateway?.['TLS_CERT_FILE'],
  );
  const gatewayUrl = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
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
    NODE_OPTIONS: serviceNodeOptions(root),
    GATEWAY_PORT: String(port),
    BATON_ADMIN_EMAIL: admin.email,
    BATON_ADMIN_PASSWORD: admin.password,
    SERVICE_CREDENTIALS: `orders:${secrets.orders},profile:${secrets.profile}`,
    ...options.storeEnv,
    ...options.env,
  };
  const generated = generatedServices(root);
  const all: ServiceName[] = [...SERVICES, ...generated];
  const replicaCount = (s: ServiceName) => Math.max(1, options.replicas?.[s] ?? 1);
  const instance = (s: ServiceName, replica: number) => `${s}#${replica}`;
  const replicasOf = (s: ServiceName) => Array.from({ length: replicaCount(s) }, (_, i) => i);
  const children = new Map<string, ChildProcess>();
  const logs = Object.fromEntries(all.map((s) => [s, [] as string[]])) as Record<
    ServiceName,
    string[]
  >;

  const startOne = async (service: ServiceName, replica: number): Promise<void> => {
    const running = children.get(instance(service, replica));
    if (running && running.exitCode === null && running.signalCode === null) {
      return;
    }
    const logFile = options.logDir && join(options.logDir, `${instance(service, replica)}.log`);
    const out = logFile ? openSync(logFile, 'a') : undefined;
    const from = logFile ? statSync(logFile).size : 0;
    const child = spawn(
      options.node ?? process.execPath,
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
          ...options.serviceEnv?.[service],
        },
        stdio: out === undefined ? 'pipe' : ['ignore', out, out],
      },
    );
    if (out !== undefined) {
      closeSync(out);
    }
    children.set(instance(service, replica), child);
    const own: string[] = [];
    const record = (d: Buffer) => {
      own.push(d.toString());
      logs[service].push(d.toString());
    };
    child.stdout?.on('data', record);
    child.stderr?.on('data', record);
    const written = logFile
      ? () => readFileSync(logFile).subarray(from).toString('utf8')
      : () => own.join('');
    await waitForLog(
      child,
      written,
      service === 'gateway' ? 'gateway listening' : 'listening on NATS',
    );
  };

  const start = async (service: ServiceName, replica?: number): Promise<void> => {
    const targets = replica === undefined ? replicasOf(service) : [replica];
    await Promise.all(targets.map((r) => startOne(service, r)));
  };

  const stopOne = async (key: string): Promise<void> => {
    const child = children.get(key);
    children.delete(key);
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      child.kill('SIGCONT'); // in case a test froze it
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };

  const stop = async (service?: ServiceName, replica?: number): Promise<void> => {
    if (service === undefined) {
      await Promise.all([...children.keys()].reverse().map((key) => stopOne(key)));
      return;
    }
    const targets = replica === undefined ? replicasOf(service) : [replica];
    await Promise.all(targets.map((r) => stopOne(instance(service, r))));
  };

  const runningChild = (service: ServiceName, replica: number): ChildProcess => {
    const child = children.get(instance(service, replica));
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${service} replica ${replica} is not running`);
    }
    return child;
  };

  const kill = async (
    service: ServiceName,
    signal: NodeJS.Signals = 'SIGKILL',
    replica = 0,
  ): Promise<void> => {
    const child = runningChild(service, replica);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };

  const signal = (service: ServiceName, name: NodeJS.Signals, replica = 0): void => {
    runningChild(service, replica).kill(name);
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
  const pid = (service: ServiceName, replica = 0) => children.get(instance(service, replica))?.pid;
  return {
    gatewayUrl,
    admin,
    serviceSecrets: secrets,
    logs,
    replicas: replicaCount,
    pid,
    start,
    stop,
    kill,
    signal,
    healthy: (timeoutMs?: number) => waitForHealthy(gatewayUrl, timeoutMs),
  };
}

/** Resolves once what the child has written (`written()`) holds `marker`. */
function waitForLog(
  child: ChildProcess,
  written: () => string,
  marker: string,
  timeoutMs = 30_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = setInterval(() => check(), 25);
    const done = () => {
      clearInterval(poll);
      child.stdout?.off('data', check);
      child.off('exit', exited);
    };
    const check = () => {
      if (written().includes(marker)) {
        done();
        resolve();
      } else if (Date.now() > deadline) {
        done();
        reject(new Error(`timed out waiting for "${marker}"`));
      }
    };
    const exited = (code: number | null) => {
      done();
      reject(new Error(`exited with code ${code} before "${marker}"`));
    };
    child.stdout?.on('data', check);
    child.once('exit', exited);
    check();
  });
}

async function waitForHealthy(gatewayUrl: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = gatewayUrl.startsWith('https:')
        ? await httpsGet(`${gatewayUrl}/health`)
        : await fetch(`${gatewayUrl}/health`).then(async (r) => ({
            status: r.status,
            text: await r.text(),
          }));
      last = res.text;
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

/** GET over HTTPS accepting any certificate (tests use throwaway self-signed ones). */
function httpsGet(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}
