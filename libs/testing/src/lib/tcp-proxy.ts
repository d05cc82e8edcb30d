import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { freePort } from './free-port';

export interface TcpProxyHandle {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Makes the target unreachable: open connections are reset and new ones refused. */
  cut(): Promise<void>;
  /** Makes it reachable again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP proxy on a free loopback port that pipes every connection to `target`, and can cut and
 * restore the way there: a database (or anything) that goes away and comes back, for real.
 */
export async function startTcpProxy(target: {
  host: string;
  port: number;
}): Promise<TcpProxyHandle> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let connections = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        connections++;
        const upstream = connect(target.port, target.host);
        sockets.add(client);
        sockets.add(upstream);
        const close = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', close).on('close', close);
        upstream.on('error', close).on('close', close);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve();
      });
    });

  const cut = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) {
      try {
        socket.resetAndDestroy(); // an RST, as when the host goes away, not a polite FIN
      } catch {
        socket.destroy();
      }
    }
    sockets.clear();
    if (s) {
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  };

  await listen();
  return {
    port,
    get connections() {
      return connections;
    },
    cut,
    restore: async () => {
      if (!server) {
        await listen();
      }
    },
    close: cut,
  };
}
