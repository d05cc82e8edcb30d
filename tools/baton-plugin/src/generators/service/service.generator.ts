import { join } from 'node:path';
import {
  formatFiles,
  generateFiles,
  getProjects,
  logger,
  names,
  updateJson,
  writeJson,
} from '@nx/devkit';
import type { GeneratorCallback, Tree } from '@nx/devkit';
import type { ServiceGeneratorSchema } from './schema';

/** The core services: their names, subjects and stores are taken. */
export const RESERVED_NAMES = ['auth', 'gateway', 'orders', 'profile'] as const;

/** The registry that `npm start` and the test harness read to start the generated services. */
export const SERVICES_REGISTRY = 'tools/services.json';

const KEBAB_CASE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** The auth service issues tokens to services of at most this many characters (`SERVICE_NAME`). */
const MAX_NAME_LENGTH = 60;

export interface ServicesRegistry {
  '//'?: string;
  services: string[];
}

/** Throws, with a message that says what to do instead, when `name` cannot be a new service. */
export function validateServiceName(tree: Tree, name: string): void {
  if (!KEBAB_CASE.test(name)) {
    throw new Error(
      `"${name}" is not a valid service name: use kebab-case (lower-case letters and digits, ` +
        `words joined by "-", starting with a letter), e.g. "inventory" or "stock-levels".`,
    );
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new Error(
      `"${name}" is longer than ${MAX_NAME_LENGTH} characters, the longest name a service ` +
        'can get a token for; choose a shorter one.',
    );
  }
  if ((RESERVED_NAMES as readonly string[]).includes(name)) {
    throw new Error(`"${name}" is a core Baton service; choose another name.`);
  }
  if (name.endsWith('-e2e')) {
    // tsconfig.build.json leaves apps/*-e2e out of the build: such a service would never run.
    throw new Error(`"${name}" ends in "-e2e", which is kept for end-to-end test projects.`);
  }
  if (getProjects(tree).has(name)) {
    throw new Error(`A project named "${name}" already exists; choose another name.`);
  }
  if (tree.exists(`apps/${name}`)) {
    throw new Error(`apps/${name} already exists; choose another name.`);
  }
}

/**
 * `nx g @baton/tools:service <name>`: a NATS service in its own queue group, every handler behind
 * @baton/auth, its own store with an initial migration, a health subject, a sample handler that
 * calls profile as the caller, a unit spec and an end-to-end spec; registered with `npm start`,
 * the test harness and docker-compose.yml.
 */
export async function serviceGenerator(
  tree: Tree,
  options: ServiceGeneratorSchema,
): Promise<GeneratorCallback> {
  const name = options.name?.trim() ?? '';
  validateServiceName(tree, name);
  const projectRoot = `apps/${name}`;

  generateFiles(tree, join(__dirname, 'files'), projectRoot, {
    ...names(name),
    name,
    timestamp: Date.now(),
    tmpl: '',
  });
  registerService(tree, name);
  await formatFiles(tree);
  // After formatFiles: the compose file keeps its own layout, which Prettier would rewrite.
  const composed = addToDockerCompose(tree, name);

  return () => {
    logger.info(`Created ${projectRoot} and listed it in ${SERVICES_REGISTRY}. Next:`);
    logger.info(`  npm run build && npx jest --selectProjects ${name}   # its unit and e2e specs`);
    logger.info(`  npm start   # runs it beside the core services`);
    if (!composed) {
      logger.warn('  docker-compose.yml was not changed: add the service to it by hand.');
    }
  };
}

/** Adds `name` to tools/services.json, creating the registry when it is missing. */
function registerService(tree: Tree, name: string): void {
  if (!tree.exists(SERVICES_REGISTRY)) {
    writeJson<ServicesRegistry>(tree, SERVICES_REGISTRY, {
      '//': 'Services made by `nx g @baton/tools:service`. npm start and the test harness (libs/testing startSystem) start each one after auth, beside profile and orders.',
      services: [],
    });
  }
  updateJson<ServicesRegistry>(tree, SERVICES_REGISTRY, (registry) => ({
    ...registry,
    services: [...new Set([...(registry.services ?? []), name])],
  }));
}

/** The anchors of docker-compose.yml that a NATS service with a store is built from. */
const COMPOSE_ANCHORS = [
  '&baton-service',
  '&baton-store-env',
  '&baton-depends',
  '&nats-health',
  '&baton-healthcheck-timing',
];

/**
 * Adds the service to docker-compose.yml (when there is one), like orders: same image, its own
 * schema in the shared PostgreSQL, started once auth is healthy, healthy when `<name>.health`
 * answers. Returns false when the file exists but does not have the expected shape.
 */
function addToDockerCompose(tree: Tree, name: string): boolean {
  const file = 'docker-compose.yml';
  if (!tree.exists(file)) {
    return true;
  }
  const compose = tree.read(file, 'utf-8') ?? '';
  if (new RegExp(`^  ${name}:\\s*$`, 'm').test(compose)) {
    return true;
  }
  const services = compose.search(/^services:\s*$/m);
  if (services < 0 || COMPOSE_ANCHORS.some((anchor) => !compose.includes(anchor))) {
    return false;
  }
  const block = [
    `  ${name}:`,
    `    <<: *baton-service`,
    `    command: ["node", "-r", "./tools/scripts/register-paths.cjs", "dist/apps/${name}/src/main.js"]`,
    `    environment:`,
    `      <<: *baton-store-env`,
    `    depends_on:`,
    `      <<: *baton-depends`,
    `      auth:`,
    `        condition: service_healthy`,
    `    healthcheck:`,
    `      test: ["CMD", "node", "-e", *nats-health, "${name}"]`,
    `      <<: *baton-healthcheck-timing`,
    '',
  ].join('\n');
  // The services section ends where the next top-level key (volumes:, networks:…) begins.
  const body = compose.indexOf('\n', services) + 1;
  const next = compose.slice(body).search(/^[A-Za-z][\w-]*:/m);
  if (body === 0 || next < 0) {
    tree.write(file, `${compose.replace(/\n*$/, '\n')}\n${block}`);
  } else {
    const at = body + next;
    const before = compose.slice(0, at).replace(/\n*$/, '\n');
    tree.write(file, `${before}\n${block}\n${compose.slice(at)}`);
  }
  return true;
}

export default serviceGenerator;
