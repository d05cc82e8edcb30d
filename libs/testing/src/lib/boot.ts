import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { HttpClient } from './http';
import { startNatsServer } from './nats-server';
import type { NatsServerHandle } from './nats-server';
import { startSystem } from './system';
import type { RunningSystem, SystemOptions } from './system';
import { createTestDatabase } from './test-database';
import type { TestDatabase } from './test-database';

export interface BootedSystem {
  nats: NatsServerHandle;
  db: TestDatabase;
  system: RunningSystem;
  http: HttpClient;
  /** A plain NATS connection for raw requests to the services. */
  nc: NatsConnection;
  stop(): Promise<void>;
}

/**
 * What an end-to-end suite needs: its own nats-server, a fresh store, the four services and clients
 * for HTTP and raw NATS. `stop()` tears all of it down.
 */
export async function bootSystem(
  options: Omit<SystemOptions, 'natsUrl' | 'storeEnv'> = {},
): Promise<BootedSystem> {
  const nats = await startNatsServer();
  const db = await createTestDatabase();
  const system = await startSystem({ ...options, natsUrl: nats.url, storeEnv: db.env });
  const nc = await connect({ servers: nats.url });
  return {
    nats,
    db,
    system,
    nc,
    http: new HttpClient(system.gatewayUrl),
    async stop() {
      await nc.close();
      await system.stop();
      await nats.stop();
      await db.drop();
    },
  };
}
