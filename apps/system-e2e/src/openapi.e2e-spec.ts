import { randomUUID } from 'node:crypto';
import { createTestDatabase, HttpClient, startNatsServer, startSystem } from '@baton/testing';
import type { NatsServerHandle, RunningSystem, TestDatabase } from '@baton/testing';

type Who = 'public' | 'user' | 'admin';

interface DesignRoute {
  method: 'get' | 'post' | 'put' | 'patch';
  path: string;
  who: Who;
  /** The success status, then the failures the table names (401/403 follow from `who`). */
  statuses: number[];
  /** The body's fields, and which of them are required. */
  body?: { fields: string[]; required: string[] };
}

/**
 * DESIGN.md's HTTP table, row by row (`GET /profile/me · PATCH /profile/me` is two routes; the
 * 400 of that row belongs to PATCH, the only one with a body).
 */
const DESIGN: DesignRoute[] = [
  {
    method: 'post',
    path: '/auth/register',
    who: 'public',
    statuses: [201, 400, 409],
    body: { fields: ['email', 'password', 'displayName'], required: ['email', 'password'] },
  },
  {
    method: 'post',
    path: '/auth/login',
    who: 'public',
    statuses: [200, 401, 429],
    body: { fields: ['email', 'password'], required: ['email', 'password'] },
  },
  {
    method: 'post',
    path: '/auth/refresh',
    who: 'public',
    statuses: [200, 401],
    body: { fields: ['refreshToken'], required: ['refreshToken'] },
  },
  {
    method: 'post',
    path: '/auth/logout',
    who: 'user',
    statuses: [204],
    body: { fields: ['refreshToken'], required: [] },
  },
  { method: 'get', path: '/auth/me', who: 'user', statuses: [200] },
  { method: 'get', path: '/.well-known/jwks.json', who: 'public', statuses: [200] },
  { method: 'get', path: '/profile/me', who: 'user', statuses: [200] },
  {
    method: 'patch',
    path: '/profile/me',
    who: 'user',
    statuses: [200, 400],
    body: { fields: ['displayName', 'shippingAddress'], required: [] },
  },
  { method: 'get', path: '/profiles/{userId}', who: 'admin', statuses: [200, 404] },
  {
    method: 'post',
    path: '/orders',
    who: 'user',
    statuses: [201, 400],
    body: { fields: ['items'], required: ['items'] },
  },
  { method: 'get', path: '/orders', who: 'user', statuses: [200] },
  { method: 'get', path: '/orders/{id}', who: 'user', statuses: [200, 404] },
  {
    method: 'put',
    path: '/admin/users/{id}/roles',
    who: 'admin',
    statuses: [200, 400, 404],
    body: { fields: ['roles'], required: ['roles'] },
  },
  { method: 'post', path: '/admin/users/{id}/revoke', who: 'admin', statuses: [204, 404] },
  { method: 'get', path: '/admin/audit', who: 'admin', statuses: [200] },
  { method: 'post', path: '/admin/keys/rotate', who: 'admin', statuses: [201] },
  { method: 'get', path: '/health', who: 'public', statuses: [200, 503] },
];

const key = (r: { method: string; path: string }) => `${r.method.toUpperCase()} ${r.path}`;

const expectedStatuses = (r: DesignRoute): number[] => [
  ...r.statuses,
  ...(r.who === 'public' ? [] : [401]),
  ...(r.who === 'admin' ? [403] : []),
];

interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
}

interface Operation {
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
  parameters?: { name: string; in: string }[];
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, { type: string; scheme?: string; bearerFormat?: string }>;
    schemas: Record<string, Schema>;
  };
}

/**
 * The gateway's OpenAPI document, fetched from the running gateway: every route of the design with
 * its method, the bearer scheme exactly where the guard wants a token, the status codes of the
 * design and the bodies of the DTOs; and the browsable UI beside it.
 */
describe('OpenAPI document and /docs', () => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let system: RunningSystem;
  let http: HttpClient;
  let doc: OpenApiDocument;

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ method, path, op })),
    );
  const operation = (r: { method: string; path: string }): Operation => {
    const op = doc.paths[r.path]?.[r.method];
    if (!op) {
      throw new Error(`${key(r)} is not in the document`);
    }
    return op;
  };
  const resolve = (schema: Schema): Schema =>
    schema.$ref ? doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')] : schema;
  /** A route of the document with its parameters filled in and a body, for a real request. */
  const call = (path: string, method: string, token?: string) =>
    http.request(method.toUpperCase(), path.replace(/\{[^}]+\}/g, randomUUID()), {
      token,
      body: method === 'get' ? undefined : {},
    });

  beforeAll(async () => {
    nats = await startNatsServer();
    db = await createTestDatabase();
    system = await startSystem({ natsUrl: nats.url, storeEnv: db.env });
    http = new HttpClient(system.gatewayUrl);
    const res = await http.get<OpenApiDocument>('/docs/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
  });

  afterAll(async () => {
    await system?.stop();
    await nats?.stop();
    await db?.drop();
  });

  it('should serve an OpenAPI 3 document, without a token, as JSON', async () => {
    const res = await http.get('/docs/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(doc.openapi).toMatch(/^3\./);
  });

  it('should list every route of the design with its method, and no other', () => {
    expect(operations().map(key).sort()).toEqual(DESIGN.map(key).sort());
  });

  it('should declare the bearer scheme for JWT access tokens', () => {
    expect(doc.components.securitySchemes['bearer']).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    );
  });

  it.each(DESIGN.map((r) => [key(r), r] as const))(
    'should document %s for the right callers with every status of the design',
    (_name, route) => {
      const op = operation(route);
      const security = op.security ?? [];
      expect(security).toEqual(route.who === 'public' ? [] : [{ bearer: [] }]);
      const documented = Object.keys(op.responses).map(Number);
      expect(documented).toEqual(expect.arrayContaining(expectedStatuses(route)));
      for (const status of documented.filter((s) => s >= 400)) {
        const schema = op.responses[status].content?.['application/json']?.schema;
        const expected = route.path === '/health' ? 'HealthReport' : 'ErrorBody';
        expect({ status, schema: schema?.$ref }).toEqual({
          status,
          schema: `#/components/schemas/${expected}`,
        });
      }
      const success = route.statuses[0];
      if (success !== 204) {
        expect(op.responses[success].content?.['application/json']?.schema).toBeDefined();
      }
    },
  );

  it.each(DESIGN.filter((r) => r.body).map((r) => [key(r), r] as const))(
    'should describe the body of %s from its DTO',
    (_name, route) => {
      const content = operation(route).requestBody?.content['application/json'];
      expect(content).toBeDefined();
      const schema = resolve(content!.schema);
      expect(Object.keys(schema.properties ?? {}).sort()).toEqual([...route.body!.fields].sort());
      expect([...(schema.required ?? [])].sort()).toEqual([...route.body!.required].sort());
    },
  );

  it('should describe nested bodies and the answers too', () => {
    const order = resolve(
      operation({ method: 'post', path: '/orders' }).requestBody!.content['application/json']
        .schema,
    );
    const item = resolve(order.properties!['items'].items!);
    expect(Object.keys(item.properties ?? {}).sort()).toEqual(['quantity', 'sku', 'unitPrice']);
    const created = resolve(
      operation({ method: 'post', path: '/orders' }).responses['201'].content!['application/json']
        .schema,
    );
    expect(Object.keys(created.properties ?? {}).sort()).toEqual(
      ['createdAt', 'id', 'items', 'shippingAddress', 'status', 'total', 'userId'].sort(),
    );
    const audit = operation({ method: 'get', path: '/admin/audit' }).parameters ?? [];
    expect(
      audit
        .filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort(),
    ).toEqual(['actorId', 'before', 'limit', 'since', 'type', 'userId']);
    const events = resolve(
      operation({ method: 'get', path: '/admin/audit' }).responses['200'].content![
        'application/json'
      ].schema,
    );
    const event = resolve(events.items!);
    expect(Object.keys(event.properties ?? {}).sort()).toEqual(
      [
        'actorId',
        'clientIp',
        'createdAt',
        'detail',
        'id',
        'requestId',
        'sessionId',
        'type',
        'userId',
      ].sort(),
    );
  });

  it('should ask for a token on exactly the routes where the gateway refuses a request without one', async () => {
    const answers = await Promise.all(
      operations().map(async ({ method, path, op }) => ({
        route: `${method.toUpperCase()} ${path}`,
        bearer: (op.security ?? []).length > 0,
        refused: (await call(path, method)).status === 401,
      })),
    );
    for (const a of answers) {
      expect(a).toEqual({ ...a, refused: a.bearer });
    }
  });

  it("should document 403 on exactly the routes that refuse a user's token with 403", async () => {
    const user = { email: 'openapi-user@example.test', password: 'openapi-password-1' };
    expect((await http.post('/auth/register', user)).status).toBe(201);
    const login = await http.post<{ accessToken: string }>('/auth/login', user);
    const token = login.body.accessToken;
    const answers = await Promise.all(
      operations()
        .filter(({ op }) => (op.security ?? []).length > 0)
        .filter(({ path, method }) => !(method === 'post' && path === '/auth/logout'))
        .map(async ({ method, path, op }) => ({
          route: `${method.toUpperCase()} ${path}`,
          documented: '403' in op.responses,
          forbidden: (await call(path, method, token)).status === 403,
        })),
    );
    for (const a of answers) {
      expect(a).toEqual({ ...a, forbidden: a.documented });
    }
  });

  it('should serve the browsable documentation at /docs, without a token', async () => {
    for (const path of ['/docs', '/docs/']) {
      const res = await http.get<string>(path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.body).toContain('swagger-ui');
    }
    const init = await http.get<string>('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.body).toContain('/auth/login');
    const bundle = await fetch(`${system.gatewayUrl}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    await bundle.arrayBuffer();
  });
});
