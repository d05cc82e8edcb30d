import { addProjectConfiguration, readJson } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { SERVICES_REGISTRY, serviceGenerator } from './service.generator';
import type { ServicesRegistry } from './service.generator';

const COMPOSE = `name: baton

x-baton-env: &baton-env
  NATS_URL: nats://nats-1:4222
x-baton-store-env: &baton-store-env
  <<: *baton-env
x-baton-service: &baton-service
  image: baton:local
x-baton-depends: &baton-depends
  nats-1:
    condition: service_healthy
x-nats-health: &nats-health >-
  process.exit(0)
x-baton-healthcheck-timing: &baton-healthcheck-timing
  interval: 10s

services:
  auth:
    <<: *baton-service

  orders:
    <<: *baton-service

volumes:
  nats-1-data:
`;

describe(serviceGenerator.name, () => {
  let tree: Tree;
  const skipFormat = process.env['NX_SKIP_FORMAT'];

  // Prettier cannot be loaded inside Jest's module sandbox; the workspace spec covers formatting.
  beforeAll(() => {
    process.env['NX_SKIP_FORMAT'] = 'true';
  });

  afterAll(() => {
    if (skipFormat === undefined) {
      delete process.env['NX_SKIP_FORMAT'];
    } else {
      process.env['NX_SKIP_FORMAT'] = skipFormat;
    }
  });

  const read = (path: string): string => {
    const content = tree.read(path, 'utf-8');
    if (content === null) {
      throw new Error(`${path} was not generated`);
    }
    return content;
  };

  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
  });

  describe('the generated app', () => {
    beforeEach(async () => {
      await serviceGenerator(tree, { name: 'stock-levels' });
    });

    it('should be a project tagged with its own scope and type:app', () => {
      expect(readJson(tree, 'apps/stock-levels/project.json')).toMatchObject({
        name: 'stock-levels',
        sourceRoot: 'apps/stock-levels/src',
        projectType: 'application',
        tags: ['scope:stock-levels', 'type:app'],
      });
      expect(read('apps/stock-levels/eslint.config.mjs')).toContain(
        "import baseConfig from '../../eslint.config.mjs';",
      );
      expect(read('apps/stock-levels/jest.config.ts')).toContain('*.e2e-spec.ts');
    });

    it('should start in its own queue group with the shared config validation', () => {
      expect(read('apps/stock-levels/src/main.ts')).toContain(
        "startNatsService('stock-levels', StockLevelsAppModule)",
      );
    });

    it('should wire @baton/auth, its own store with a migration and the health subject', () => {
      const module = read('apps/stock-levels/src/app/stock-levels-app.module.ts');
      expect(module).toContain("BatonAuthModule.forRoot({ service: 'stock-levels' })");
      expect(module).toMatch(
        /serviceStoreModule\('stock-levels', entities, \[InitialStockLevelsSchema\d+\]\)/,
      );
      expect(module).toContain("natsHealthController('stock-levels', StockLevelsSubjects.health)");
      expect(module).toContain('{ provide: HEALTH_PROBE, useClass: DatabaseHealthProbe }');
      const migrations = tree.children('apps/stock-levels/src/app/migrations');
      expect(migrations).toEqual([
        expect.stringMatching(/^\d{13}-initial-stock-levels-schema\.ts$/),
      ]);
    });

    it('should protect the sample handler with roles and name its subjects after the service', () => {
      const controller = read('apps/stock-levels/src/app/stock-levels.controller.ts');
      expect(controller).toContain(
        "@Roles('user', 'admin')\n  @MessagePattern(StockLevelsSubjects.hello)",
      );
      expect(controller).toContain('@CurrentUser() user: Principal');
      expect(controller).not.toContain('@Public');
      const contract = read('apps/stock-levels/src/app/stock-levels.contract.ts');
      expect(contract).toContain("hello: 'stock-levels.hello'");
      expect(contract).toContain("health: 'stock-levels.health'");
      expect(read('apps/stock-levels/src/app/stock-levels.service.ts')).toContain(
        'this.client.send<ProfileView>(Subjects.profile.get, {})',
      );
    });

    it('should come with a unit spec beside the service and an e2e spec', () => {
      expect(read('apps/stock-levels/src/app/stock-levels.service.spec.ts')).toContain(
        'describe(StockLevelsService.name',
      );
      expect(read('apps/stock-levels/src/stock-levels.e2e-spec.ts')).toContain(
        "describe('stock-levels end to end'",
      );
    });

    it('should leave no template syntax or placeholder behind', () => {
      const files = tree
        .listChanges()
        .filter((change) => change.path.startsWith('apps/stock-levels/'));
      expect(files.length).toBeGreaterThanOrEqual(12);
      for (const { path, content } of files) {
        expect(path).not.toMatch(/__\w+__|tmpl/);
        expect(content?.toString()).not.toMatch(/<%|%>/);
      }
    });

    it('should register the service for npm start and the test harness', () => {
      expect(readJson<ServicesRegistry>(tree, SERVICES_REGISTRY).services).toEqual([
        'stock-levels',
      ]);
    });
  });

  describe('the services registry', () => {
    it('should append to the existing list without repeating a name', async () => {
      tree.write(SERVICES_REGISTRY, JSON.stringify({ '//': 'kept', services: ['billing'] }));

      await serviceGenerator(tree, { name: 'inventory' });

      expect(readJson<ServicesRegistry>(tree, SERVICES_REGISTRY)).toEqual({
        '//': 'kept',
        services: ['billing', 'inventory'],
      });
    });
  });

  describe('docker-compose.yml', () => {
    it('should add the service inside services:, built like orders, before volumes:', async () => {
      tree.write('docker-compose.yml', COMPOSE);

      await serviceGenerator(tree, { name: 'inventory' });

      const compose = read('docker-compose.yml');
      const block = compose.slice(compose.indexOf('  inventory:'), compose.indexOf('volumes:'));
      expect(compose.indexOf('  orders:')).toBeLessThan(compose.indexOf('  inventory:'));
      expect(block).toContain('<<: *baton-service');
      expect(block).toContain('dist/apps/inventory/src/main.js');
      expect(block).toContain('<<: *baton-store-env');
      expect(block).toContain('test: ["CMD", "node", "-e", *nats-health, "inventory"]');
      expect(compose.endsWith('volumes:\n  nats-1-data:\n')).toBe(true);
    });

    it('should leave a compose file it does not recognise alone', async () => {
      const foreign = 'services:\n  web:\n    image: nginx\n';
      tree.write('docker-compose.yml', foreign);

      await serviceGenerator(tree, { name: 'inventory' });

      expect(read('docker-compose.yml')).toBe(foreign);
    });

    it('should not create a compose file where there is none', async () => {
      await serviceGenerator(tree, { name: 'inventory' });

      expect(tree.exists('docker-compose.yml')).toBe(false);
    });
  });

  describe('names', () => {
    it.each([
      'Inventory',
      'stock_levels',
      'stockLevels',
      '1st-service',
      'stock--levels',
      '-stock',
      '',
    ])('should refuse "%s", which is not kebab-case', async (name) => {
      await expect(serviceGenerator(tree, { name })).rejects.toThrow(/kebab-case/);
    });

    it.each(['auth', 'gateway', 'orders', 'profile'])(
      'should refuse "%s", a core service',
      async (name) => {
        await expect(serviceGenerator(tree, { name })).rejects.toThrow(/core Baton service/);
      },
    );

    it('should refuse the name of an existing project', async () => {
      addProjectConfiguration(tree, 'contracts', { root: 'libs/contracts' });

      await expect(serviceGenerator(tree, { name: 'contracts' })).rejects.toThrow(/already exists/);
    });

    it('should refuse a name whose apps/ folder is taken', async () => {
      tree.write('apps/billing/README.md', 'not a project yet');

      await expect(serviceGenerator(tree, { name: 'billing' })).rejects.toThrow(
        /apps\/billing already exists/,
      );
    });

    it('should refuse a name longer than the auth service issues tokens for (60 characters)', async () => {
      await expect(serviceGenerator(tree, { name: `stock-${'x'.repeat(55)}` })).rejects.toThrow(
        /longer than 60/,
      );
    });

    it('should refuse a name ending in -e2e, which the build leaves out', async () => {
      await expect(serviceGenerator(tree, { name: 'stock-e2e' })).rejects.toThrow(/-e2e/);
    });

    it('should write nothing when it refuses a name', async () => {
      const before = tree.listChanges().map((change) => change.path);

      await expect(serviceGenerator(tree, { name: 'orders' })).rejects.toThrow();

      expect(tree.listChanges().map((change) => change.path)).toEqual(before);
    });
  });
});
