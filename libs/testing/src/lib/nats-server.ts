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

async function waitForNats(url: string, timeoutMs: number): Promise<void> {
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
