import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { FastifyAdapter } from '@nestjs/platform-fastify';

/*
 * The gateway runs on the Fastify that package.json names: the adapter pins a version of its own,
 * and the `overrides` entry makes it use the workspace's copy instead (docs/performance.md).
 */

describe('the Fastify under the gateway', () => {
  it("should be the workspace's copy, not one the Nest adapter brings", async () => {
    const adapter = new FastifyAdapter();
    const workspace = JSON.parse(readFileSync(require.resolve('fastify/package.json'), 'utf8')) as {
      version: string;
    };
    const adapterDir = dirname(require.resolve('@nestjs/platform-fastify/package.json'));

    expect(adapter.getInstance().version).toBe(workspace.version);
    expect(require.resolve('fastify', { paths: [adapterDir] })).toBe(require.resolve('fastify'));
    await adapter.close();
  });
});
