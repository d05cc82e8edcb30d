import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { freePort } from './free-port';

export interface NatsServerHandle {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

const CANDIDATES = [
  process.env['NATS_SERVER_BIN'],
  'nats-server',
  '/usr/sbin/nats-server',
  '/usr/bin/nats-server',
];

/** The nats-server binary, or an error that says how to install it. */
export function natsServerBinary(): string {
  for (const candidate of CANDIDATES) {
    if (candidate && spawnSync(candidate, ['--version']).status === 0) {
      return candidate;
    }
  }
  throw new Error(
    'nats-server was not found. Install it (Debian/Ubuntu: `apt-get install -y nats-server`) ' +
      'or set NATS_SERVER_BIN to its path.',
  );
}

export async function waitForNats(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const nc = await connect({ servers: url, reconnect: false, timeout: 500 });
      await nc.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`nats-server at ${url} did not answer: ${String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Starts a real `nats-server -js` on a free loopback port with its own store directory. */
export async function startNatsServer(options: { port?: number } = {}): Promise<NatsServerHandle> {
  const port = options.port ?? (await freePort());
  const storeDir = mkdtempSync(join(tmpdir(), 'baton-nats-'));
  const child = spawn(
    natsServerBinary(),
    ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir],
    {
      stdio: 'ignore',
    },
  );
  const url = `nats://127.0.0.1:${port}`;
  await waitForNats(url, 10_000);
  return {
    url,
    port,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

export interface NatsNodeHandle {
  /** The node's `server_name` (`n1`, `n2`…). */
  name: string;
  url: string;
  port: number;
  /** The node's HTTP monitoring endpoint (`/connz`, `/jsz`, `/healthz`…). */
  monitorUrl: string;
  /** What the node wrote to stderr (its log), for failure messages. */
  logs: string[];
  /** The names of the clients connected to this node now (`gateway-client`, `orders-server`…). */
  clients(): Promise<string[]>;
  readonly running: boolean;
  /** Stops the node (SIGTERM; SIGKILL to kill it) and waits for it to exit. Its store is kept. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the node again, on the same ports with the same store. */
  start(): Promise<void>;
}

export interface NatsClusterHandle {
  /** Every node's client URL, comma-separated (what `NATS_URL` takes). */
  url: string;
  nodes: NatsNodeHandle[];
  node(name: string): NatsNodeHandle;
  /** Resolves once every running node answers and JetStream has a metadata leader. */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops every node and deletes their stores. */
  stop(): Promise<void>;
}

/**
 * Starts a real NATS cluster on loopback ports: `nodes` `nats-server -js` processes, each with its
 * own `server_name` and store, routed to one another (cluster `baton`), JetStream clustered.
 */
export async function startNatsCluster(
  options: { nodes?: number } = {},
): Promise<NatsClusterHandle> {
  const count = options.nodes ?? 3;
  const binary = natsServerBinary();
  const ports = await Promise.all(
    Array.from({ length: count }, async () => ({
      client: await freePort(),
      route: await freePort(),
      monitor: await freePort(),
    })),
  );
  const routeUrl = (i: number) => `nats://127.0.0.1:${ports[i].route}`;
  const nodes = ports.map((port, i): NatsNodeHandle & { storeDir: string } => {
    const name = `n${i + 1}`;
    const storeDir = mkdtempSync(join(tmpdir(), `baton-nats-${name}-`));
    const url = `nats://127.0.0.1:${port.client}`;
    const routes = ports.map((_, j) => routeUrl(j)).filter((_, j) => j !== i);
    const logs: string[] = [];
    let child: ChildProcess | undefined;
    const running = () => !!child && child.exitCode === null && child.signalCode === null;
    const monitorUrl = `http://127.0.0.1:${port.monitor}`;
    return {
      name,
      url,
      port: port.client,
      storeDir,
      monitorUrl,
      logs,
      async clients() {
        const res = await fetch(`${monitorUrl}/connz?limit=4096`);
        const body = (await res.json()) as { connections?: { name?: string }[] };
        return (body.connections ?? []).map((c) => c.name ?? '');
      },
      get running() {
        return running();
      },
      async start() {
        if (running()) {
          return;
        }
        // prettier-ignore
        const args = [
          '-a', '127.0.0.1', '-p', String(port.client), '-m', String(port.monitor), '-n', name,
          '-js', '-sd', storeDir,
          '--cluster_name', 'baton', '--cluster', routeUrl(i), '--routes', routes.join(','),
        ];
        child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
        child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
        await waitForNats(url, 10_000);
      },
      async stop(signal: NodeJS.Signals = 'SIGTERM') {
        const current = child;
        if (current && running()) {
          const exited = new Promise((r) => current.once('exit', r));
          current.kill(signal);
          await exited;
        }
      },
    };
  });
  const url = nodes.map((n) => n.url).join(',');

  const ready = async (timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (const node of nodes.filter((n) => n.running)) {
      for (;;) {
        try {
          // Only a node that knows the JetStream metadata leader answers account info.
          const nc = await connect({ servers: node.url, reconnect: false, timeout: 1000 });
          try {
            await (await nc.jetstreamManager({ timeout: 1000 })).getAccountInfo();
          } finally {
            await nc.close();
          }
          break;
        } catch (err) {
          last = err;
          if (Date.now() > deadline) {
            throw new Error(`NATS node ${node.name} is not ready: ${String(last)}`);
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  };

  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
    for (const n of nodes) {
      rmSync(n.storeDir, { recursive: true, force: true });
    }
  };

  try {
    await Promise.all(nodes.map((n) => n.start()));
    await ready();
  } catch (err) {
    await stop();
    throw new Error(
      `${String(err)}\n${nodes.map((n) => `--- ${n.name}\n${n.logs.join('').slice(-2000)}`).join('\n')}`,
    );
  }
  const node = (name: string) => {
    const found = nodes.find((n) => n.name === name);
    if (!found) {
      throw new Error(`no NATS node named ${name}`);
    }
    return found;
  };
  return { url, nodes, node, ready, stop };
}
