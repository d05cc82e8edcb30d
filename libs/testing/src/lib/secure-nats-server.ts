import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import { natsPasswordVariable, renderNatsServerConfig } from '@baton/contracts';
import type { NatsPermissions } from '@baton/contracts';
import { freePort } from './free-port';
import { natsServerBinary } from './nats-server';
import { workspaceRoot } from './system';

export interface NatsCertificates {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/**
 * A throwaway CA with a server certificate (for 127.0.0.1 and localhost) and a client certificate,
 * made in `dir` by tools/nats/make-certs.sh, as an operator would (needs the openssl CLI).
 */
export function makeNatsCertificates(dir: string): NatsCertificates {
  const script = join(workspaceRoot(), 'tools/nats/make-certs.sh');
  const run = spawnSync('sh', [script, dir], {
    encoding: 'utf8',
    env: { ...process.env, DAYS: '2' },
  });
  if (run.status !== 0) {
    throw new Error(
      `tools/nats/make-certs.sh failed (is openssl installed?): ${run.error?.message ?? ''}${run.stderr}`,
    );
  }
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server-key.pem'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client-key.pem'),
  };
}

export interface SecureNatsServerHandle {
  url: string;
  port: number;
  certs: NatsCertificates;
  /** The password of each service's NATS user (the user is named like the service). */
  passwords: Record<string, string>;
  /** What a service connects with: NATS_URL, its NATS_USER and NATS_PASSWORD, the TLS files. */
  env(service: string): Record<string, string>;
  /** The server's configuration file, as generated. */
  config: string;
  /** Its monitoring endpoint (`/connz?auth=true` shows each connection's user and TLS version). */
  monitorUrl: string;
  /** Everything nats-server logged so far (permission violations are logged as errors). */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts `nats-server` the way deploy/nats/nats-server.conf runs it: TLS with client certificates
 * required, JetStream, and one user per service with `permissions` (rendered by the same code as
 * `npm run nats:config`), each with a fresh password. On a free loopback port.
 */
export async function startSecureNatsServer(options: {
  permissions: Readonly<Record<string, NatsPermissions>>;
}): Promise<SecureNatsServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-secure-nats-'));
  const certs = makeNatsCertificates(join(dir, 'tls'));
  const port = await freePort();
  const monitorPort = await freePort();
  const passwords = Object.fromEntries(
    Object.keys(options.permissions).map((s) => [s, `nats${randomBytes(24).toString('hex')}`]),
  );
  const config = renderNatsServerConfig({
    permissions: options.permissions,
    tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile },
    storeDir: join(dir, 'jetstream'),
  });
  const configFile = join(dir, 'nats-server.conf');
  writeFileSync(configFile, config);
  const child = spawn(
    natsServerBinary(),
    ['-c', configFile, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env['PATH'],
        ...Object.fromEntries(
          Object.entries(passwords).map(([s, p]) => [natsPasswordVariable(s), p]),
        ),
      },
    },
  );
  const logs: string[] = [];
  child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  const url = `nats://127.0.0.1:${port}`;
  const env = (service: string): Record<string, string> => ({
    NATS_URL: url,
    NATS_USER: service,
    NATS_PASSWORD: passwords[service] ?? '',
    NATS_TLS_CA_FILE: certs.caFile,
    NATS_TLS_CERT_FILE: certs.clientCertFile,
    NATS_TLS_KEY_FILE: certs.clientKeyFile,
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const [someone] = Object.keys(passwords);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const nc = await connect({
        servers: url,
        user: someone,
        pass: passwords[someone],
        tls: { caFile: certs.caFile, certFile: certs.clientCertFile, keyFile: certs.clientKeyFile },
        reconnect: false,
        timeout: 500,
      });
      await nc.close();
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) {
        await stop();
        throw new Error(`secure nats-server did not answer: ${String(err)}\n${logs.join('')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    port,
    certs,
    passwords,
    env,
    config,
    monitorUrl: `http://127.0.0.1:${monitorPort}`,
    logs: () => logs.join(''),
    stop,
  };
}
