import fc from 'fast-check';
import { headers as natsHeaders, JSONCodec } from 'nats';
import type { NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { bootSystem, leaksInLogs, natsRequest, queryServiceDb, SERVICES } from '@baton/testing';
import type {
  BootedSystem,
  HttpClient,
  HttpResult,
  RpcReply,
  RunningSystem,
  TestDatabase,
} from '@baton/testing';

/**
 * Issue #4: hostile input beyond tokens. Property-based bodies for the gateway and raw payloads for
 * the NATS services, with a valid token where one is needed: wrong types, huge strings and arrays,
 * unicode, prototype-pollution keys. Nothing may answer 5xx, no service may die, and the stores may
 * hold only what was acknowledged: an order for every 201 and nothing else, each with its items.
 */

const jc = JSONCodec<unknown>();
/** Runs per property; BATON_FUZZ_SCALE=10 fuzzes ten times deeper. */
const runs = (n: number): number => n * Number(process.env['BATON_FUZZ_SCALE'] ?? 1);
const BODY_LIMIT = 64 * 1024;
const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'];

// ---------------------------------------------------------------------------------------------
// Hostile JSON, written as text so that `__proto__` keys, duplicate keys and numbers such as
// 1e999 reach the server literally (JSON.stringify of an object could not produce them).

class Obj {
  constructor(readonly entries: Array<[string, Json]>) {}
}
class RawNumber {
  constructor(readonly text: string) {}
}
type Json = null | boolean | number | string | RawNumber | Obj | Json[];

function toJson(value: Json): string {
  if (value instanceof Obj) {
    return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
  }
  if (value instanceof RawNumber) {
    return value.text;
  }
  if (Array.isArray(value)) {
    return `[${value.map(toJson).join(',')}]`;
  }
  return JSON.stringify(value) ?? 'null';
}

const oddStrings = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  '\ud800',
  '\udfff',
  '\u202e\u0041\u0042',
  'e\u0301\u0301\u0301',
  '👩‍👩‍👧‍👦',
  '𝕳𝖔𝖘𝖙𝖎𝖑𝖊',
  '<script>alert(1)</script>',
  "'; DROP TABLE orders; --",
  '${jndi:ldap://x}',
  '{{7*7}}',
  '../../etc/passwd',
  'admin@baton.test',
  'a'.repeat(101),
  'a'.repeat(501),
);
const hugeString = fc.constantFrom(5_000, 20_000, 70_000).map((n) => 'x'.repeat(n));
const oddNumbers = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1.005,
    0.1 + 0.2,
    2 ** 31,
    2 ** 53 + 1,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    10_001,
    1e6 + 0.01,
  ),
  fc
    .constantFrom('1e999', '-1e999', '1e-400', '123456789012345678901234567890', '-0.0')
    .map((t) => new RawNumber(t)),
  fc.double(),
  fc.integer(),
);
const KEYS = [
  ...POLLUTION_KEYS,
  'email',
  'password',
  'displayName',
  'shippingAddress',
  'items',
  'sku',
  'quantity',
  'unitPrice',
  'userId',
  'id',
  'roles',
  'limit',
  'idempotencyKey',
  'toString',
  'hasOwnProperty',
];
const key = fc.oneof(
  { arbitrary: fc.constantFrom(...KEYS), weight: 4 },
  { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }), weight: 1 },
);
const { value: hostile } = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    oddNumbers,
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    oddStrings,
    hugeString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.integer({ min: 101, max: 3000 }).map((n) => Array.from({ length: n }, () => 1)),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map((entries) => new Obj(entries)),
  ),
}));
/** Overrides for a valid body: later keys win in JSON.parse, so these replace the valid values. */
const mutations = fc.array(fc.tuple(key, hostile), { minLength: 1, maxLength: 3 });

/** A body for one endpoint: all hostile, a valid one with hostile overrides, or a valid one. */
function bodyFor(valid: fc.Arbitrary<Array<[string, Json]>>): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: hostile.map(toJson), weight: 2 },
    {
      arbitrary: fc
        .tuple(valid, mutations)
        .map(([base, extra]) => toJson(new Obj([...base, ...extra]))),
      weight: 4,
    },
    { arbitrary: valid.map((base) => toJson(new Obj(base))), weight: 1 },
  );
}

const validItem = fc
  .record({
    sku: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
    quantity: fc.integer({ min: 1, max: 10_000 }),
    unitPrice: fc.integer({ min: 0, max: 100_000_000 }).map((cents) => cents / 100),
  })
  .map((item) => new Obj(Object.entries(item) as Array<[string, Json]>));
const itemArb = fc.oneof(
  { arbitrary: validItem, weight: 3 },
  {
    arbitrary: fc
      .tuple(validItem, mutations)
      .map(([item, extra]) => new Obj([...item.entries, ...extra])),
    weight: 1,
  },
);
const orderBody = bodyFor(
  fc.array(itemArb, { minLength: 1, maxLength: 5 }).map((items) => [['items', items]]),
);
const profileBody = bodyFor(
  fc
    .record(
      {
        displayName: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }),
        shippingAddress: fc.string({ maxLength: 500 }),
      },
      { requiredKeys: [] },
    )
    .map((r) => Object.entries(r) as Array<[string, Json]>),
);
const credentialsBody = (email: fc.Arbitrary<string>, password: fc.Arbitrary<string>) =>
  bodyFor(fc.record({ email, password }).map((r) => Object.entries(r) as Array<[string, Json]>));

/** Parses a body the way the server does (for the expectations), or undefined when it is not JSON. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Record<string, unknown>, k: string) => Object.prototype.hasOwnProperty.call(o, k);

describe('Hostile input', () => {
  let booted: BootedSystem;
  let db: TestDatabase;
  let system: RunningSystem;
  let http: HttpClient;
  let nc: NatsConnection;

  const carol = { email: 'carol.hostile@example.test', password: 'carol-hostile-password' };
  const dave = { email: 'dave.hostile@example.test', password: 'dave-hostile-password1' };
  let carolId: string;
  let carolToken: string;
  let daveToken: string;
  const refreshTokens: string[] = [];
  const passwords: string[] = [carol.password, dave.password];

  /** What the stores must hold at the end: orders acknowledged with their item count, profile state. */
  const createdOrders = new Map<string, number>();
  const daveOrders = new Set<string>();
  let registered = 0;
  let profile: { displayName: string | null; shippingAddress: string | null };
  let before: { users: number; profiles: number; orders: number; items: number };

  const count = async (service: string, table: string) =>
    Number(
      (
        await queryServiceDb<{ n: number | string }>(
          db,
          service,
          `SELECT COUNT(*) AS n FROM ${table}`,
        )
      )[0].n,
    );
  const counts = async () => ({
    users: await count('auth', 'users'),
    profiles: await count('profile', 'profiles'),
    orders: await count('orders', 'orders'),
    items: await count('orders', 'order_items'),
  });

  const postRaw = (
    method: string,
    path: string,
    raw: string,
    token?: string,
    headers: Record<string, string> = {},
  ) =>
    http.request(method, path, {
      raw,
      token,
      headers: { 'content-type': 'application/json', ...headers },
    });

  /** What each kind of input got (printed with BATON_ATTACK_REPORT=1). */
  const tally = new Map<string, Map<string, number>>();
  const record = (kind: string, outcome: string | number) => {
    const outcomes = tally.get(kind) ?? new Map<string, number>();
    outcomes.set(String(outcome), (outcomes.get(String(outcome)) ?? 0) + 1);
    tally.set(kind, outcomes);
  };

  /** The one rule for every answer: a 4xx or the expected success, never 5xx, never a stray 2xx. */
  function expectAnswer(
    res: HttpResult,
    success: number,
    input: string,
    kind = 'HTTP other',
  ): void {
    record(kind, res.status);
    const ok = res.status === success || (res.status >= 400 && res.status < 500);
    if (!ok) {
      throw new Error(
        `answered ${res.status} ${JSON.stringify(res.body)} to ${input.slice(0, 300)}`,
      );
    }
  }

  /** Keeps track of a profile update the service acknowledged (HTTP 200 or an RPC response). */
  function profileUpdated(body: unknown, answer: Record<string, unknown>): void {
    expect(Object.keys(answer).sort()).toEqual([
      'displayName',
      'shippingAddress',
      'updatedAt',
      'userId',
    ]);
    expect(answer['userId']).toBe(carolId);
    const sent = isObject(body) ? body : {};
    for (const field of ['displayName', 'shippingAddress'] as const) {
      // what was sent (null clears a field), or what was there
      const expected = own(sent, field) ? (sent[field] as string | null) : profile[field];
      expect({ field, value: answer[field] }).toEqual({ field, value: expected });
    }
    profile = {
      displayName: answer['displayName'] as string | null,
      shippingAddress: answer['shippingAddress'] as string | null,
    };
  }

  /** Keeps track of an order the service acknowledged, and checks it is exactly what was sent. */
  function orderCreated(body: unknown, answer: Record<string, unknown>): void {
    expect(Object.keys(answer).sort()).toEqual([
      'createdAt',
      'id',
      'items',
      'shippingAddress',
      'status',
      'total',
      'userId',
    ]);
    expect(answer['userId']).toBe(carolId);
    const items = (isObject(body) ? body['items'] : undefined) as Array<Record<string, unknown>>;
    // -0 is stored and answered as 0
    const sent = items.map(({ sku, quantity, unitPrice }) => ({
      sku,
      quantity,
      unitPrice: (unitPrice as number) + 0,
    }));
    const id = answer['id'] as string;
    if (!createdOrders.has(id)) {
      expect(answer['items']).toEqual(sent);
      createdOrders.set(id, sent.length);
    }
  }

  beforeAll(async () => {
    booted = await bootSystem({
      env: { NATS_REQUEST_TIMEOUT_MS: '2000' },
    });
    ({ db, system, http, nc } = booted);
    passwords.push(system.admin.password);
    carolId = (await http.post('/auth/register', carol)).body.id;
    expect((await http.post('/auth/register', dave)).status).toBe(201);
    const carolLogin = (await http.post('/auth/login', carol)).body;
    const daveLogin = (await http.post('/auth/login', dave)).body;
    carolToken = carolLogin.accessToken;
    daveToken = daveLogin.accessToken;
    refreshTokens.push(carolLogin.refreshToken, daveLogin.refreshToken);
    const me = await http.get('/profile/me', carolToken);
    expect(me.status).toBe(200);
    profile = { displayName: me.body.displayName, shippingAddress: me.body.shippingAddress };
    before = await counts();
  });

  afterAll(async () => {
    if (process.env['BATON_ATTACK_REPORT']) {
      const lines = [...tally].map(
        ([kind, outcomes]) => `${kind} | ${[...outcomes].map(([o, n]) => `${o} ×${n}`).join(', ')}`,
      );
      process.stdout.write(`\nhostile input tally\n${lines.join('\n')}\n`);
    }
    await booted?.stop();
  });

  describe('gateway bodies', () => {
    // A password is only hashed: a NUL in it is harmless, and whoever chose one can still log in.
    // First, while this address may still register (the fuzzing below uses up its registrations).
    it('should register and log in a user whose password holds a NUL, and refuse one in the email', async () => {
      const raw = '{"email":"nul.password@example.test","password":"nul\\u0000password-1"}';
      const signedUp = await postRaw('POST', '/auth/register', raw);
      if (signedUp.status === 201) {
        registered++;
      }
      const loggedIn = await postRaw('POST', '/auth/login', raw);
      const without = await postRaw(
        'POST',
        '/auth/login',
        '{"email":"nul.password@example.test","password":"nulpassword-1"}',
      );
      const nulEmail = await postRaw(
        'POST',
        '/auth/login',
        '{"email":"nul\\u0000@example.test","password":"nul\\u0000password-1"}',
      );
      record('HTTP NUL in credentials', nulEmail.status);
      expect([signedUp.status, loggedIn.status, without.status, nulEmail.status]).toEqual([
        201, 200, 401, 400,
      ]);
      expect(loggedIn.body.accessToken).toEqual(expect.any(String));
      expect(nulEmail.body.message).toBe(
        'email must be well-formed Unicode text without NUL characters',
      );
    });

    // 'İ' is one character in upper case and two in lower case, as the account would keep it: the
    // email fits as sent, not as stored, and PostgreSQL would refuse to store it.
    it('should refuse with 400 an email too long once in lower case', async () => {
      const email = `${'İ'.repeat(32)}@${'İ'.repeat(62)}.${'İ'.repeat(62)}.test`;
      const res = await postRaw(
        'POST',
        '/auth/register',
        JSON.stringify({ email, password: 'a-valid-password-1' }),
      );
      record('HTTP email long in lower case', res.status);
      expect({ length: email.length, status: res.status, message: res.body.message }).toEqual({
        length: 163,
        status: 400,
        message: 'email must be at most 254 characters long in lower case',
      });
    });

    it('should answer POST /auth/register with 201 or a 4xx, creating only the users it answered 201 for', async () => {
      let n = 0;
      const emails = fc.oneof(
        { arbitrary: fc.constant('FRESH'), weight: 3 },
        {
          arbitrary: fc.constantFrom(carol.email, carol.email.toUpperCase(), system.admin.email),
          weight: 1,
        },
        { arbitrary: fc.emailAddress(), weight: 1 },
      );
      await fc.assert(
        fc.asyncProperty(
          credentialsBody(emails, fc.constant('FRESH-PASSWORD')),
          async (template) => {
            const password = `pw-${randomUUID()}`;
            const raw = template
              .replace('"FRESH"', () =>
                JSON.stringify(`fuzz-${++n}-${randomUUID().slice(0, 8)}@hostile.test`),
              )
              .replace('"FRESH-PASSWORD"', () => JSON.stringify(password));
            const res = await postRaw('POST', '/auth/register', raw);
            expectAnswer(res, 201, raw, 'HTTP POST /auth/register');
            if (res.status === 201) {
              registered++;
              expect(Object.keys(res.body).sort()).toEqual(['email', 'id', 'roles']);
              expect(res.body.roles).toEqual(['user']);
            }
            passwords.push(password);
          },
        ),
        { numRuns: runs(50) },
      );
    });

    it('should answer POST /auth/login with a 4xx for anything but good credentials', async () => {
      const emails = fc.oneof(
        fc.constantFrom(carol.email, system.admin.email),
        fc.emailAddress(),
        fc.string(),
      );
      const guesses = fc.string({ minLength: 12, maxLength: 40 });
      await fc.assert(
        fc.asyncProperty(credentialsBody(emails, guesses), async (raw) => {
          const res = await postRaw('POST', '/auth/login', raw);
          expectAnswer(res, 401, raw, 'HTTP POST /auth/login');
          expect(JSON.stringify(res.body)).not.toContain('eyJ');
        }),
        { numRuns: runs(80) },
      );
    });

    it('should answer PATCH /profile/me with 200 or a 4xx, storing exactly what it acknowledged', async () => {
      await fc.assert(
        fc.asyncProperty(profileBody, async (raw) => {
          const res = await postRaw('PATCH', '/profile/me', raw, carolToken);
          expectAnswer(res, 200, raw, 'HTTP PATCH /profile/me');
          if (res.status === 200) {
            profileUpdated(parsed(raw), res.body);
          }
        }),
        { numRuns: runs(80) },
      );
    });

    it('should answer POST /orders with 201 or a 4xx, placing exactly the orders it acknowledged', async () => {
      const idempotencyKey = fc.option(
        fc.oneof(
          fc.stringMatching(/^[\x21-\x7e]{1,24}$/),
          fc.constantFrom('', 'has space', 'k'.repeat(129), 'ünï'),
        ),
        { freq: 3 },
      );
      await fc.assert(
        fc.asyncProperty(orderBody, idempotencyKey, async (raw, key) => {
          const res = await postRaw(
            'POST',
            '/orders',
            raw,
            carolToken,
            key === null ? {} : { 'idempotency-key': key },
          );
          expectAnswer(res, 201, raw, 'HTTP POST /orders');
          if (res.status === 201) {
            orderCreated(parsed(raw), res.body);
          }
        }),
        { numRuns: runs(80) },
      );
      // and one well-formed order, so the final store check always has an acknowledged order to find
      const valid = '{"items":[{"sku":"WELL-1","quantity":2,"unitPrice":3.5}]}';
      const placed = await postRaw('POST', '/orders', valid, carolToken);
      expect(placed.status).toBe(201);
      orderCreated(parsed(valid), placed.body);
    });

    it('should refuse pollution keys with 400, like any unknown field', async () => {
      const polluting = [
        '{"__proto__":{"roles":["admin"]},"displayName":"Polly"}',
        '{"constructor":{"prototype":{"roles":["admin"]}},"displayName":"Polly"}',
        '{"prototype":{"roles":["admin"]},"displayName":"Polly"}',
        '{"displayName":"Polly","__proto__":{"isAdmin":true}}',
      ];
      for (const raw of polluting) {
        const res = await postRaw('PATCH', '/profile/me', raw, daveToken);
        record('HTTP pollution keys', res.status);
        expect({ raw, status: res.status }).toEqual({ raw, status: 400 });
        // Fastify's parser refuses `__proto__` itself; the validation pipe refuses the others
        expect(res.body.message).toMatch(/__proto__|constructor|prototype|not valid JSON/);
      }
      const order =
        '{"items":[{"sku":"P-1","quantity":1,"unitPrice":1,"__proto__":{"unitPrice":0}}],"__proto__":{"userId":"x"}}';
      const placed = await postRaw('POST', '/orders', order, daveToken);
      record('HTTP pollution keys', placed.status);
      expect(placed.status).toBe(400);
      // whatever was dropped, dave gained nothing
      expect((await http.get(`/profiles/${carolId}`, daveToken)).status).toBe(403);
      expect((await http.get('/admin/audit', daveToken)).status).toBe(403);
      const daves = await http.get('/orders', daveToken);
      expect(daves.body.every((o: { userId: string }) => o.userId !== carolId)).toBe(true);
    });

    // Validators that throw on hostile input: class-validator 0.14's IsNumber with maxDecimalPlaces
    // reads `String(value).split('.')[1].length`, which throws for a fraction printed in exponent
    // form (typestack/class-validator#1705, open), and validator.js's isEmail calls encodeURI, which
    // throws on a lone surrogate, and class-transformer's Number() on an object without a usable
    // toString/valueOf. The validation pipe of every hop turns such a throw into 400.
    it('should answer 400, not 500, to input that makes a validator throw', async () => {
      const cases: Array<[string, string, string | undefined]> = [
        ['/orders', '{"items":[{"sku":"TINY-1","quantity":1,"unitPrice":1e-7}]}', carolToken],
        ['/orders', '{"items":[{"sku":"TINY-2","quantity":1,"unitPrice":5e-324}]}', carolToken],
        ['/auth/register', '{"email":"\\udfff","password":"a-valid-password-1"}', undefined],
        [
          '/auth/register',
          '{"email":"a\\ud800@example.test","password":"a-valid-password-1"}',
          undefined,
        ],
        [
          '/orders',
          '{"items":[{"sku":"OBJ-1","quantity":{"toString":null},"unitPrice":1}]}',
          carolToken,
        ],
      ];
      for (const [path, raw, token] of cases) {
        const res = await postRaw('POST', path, raw, token);
        record('HTTP validator throws', res.status);
        expect({ path, raw, status: res.status }).toEqual({ path, raw, status: 400 });
      }
    });

    // A lone surrogate cannot be stored as UTF-8, and PostgreSQL text holds no NUL: what profile
    // acknowledged would not be what it holds, or the store would refuse it, so such text is refused.
    it('should refuse a profile field that is not well-formed Unicode or holds a NUL', async () => {
      for (const raw of [
        '{"displayName":"a\\ud800b"}',
        '{"displayName":"\\u0000"}',
        '{"shippingAddress":"1 Main St\\u0000"}',
      ]) {
        const res = await postRaw('PATCH', '/profile/me', raw, daveToken);
        record('HTTP unstorable text', res.status);
        expect({ raw, status: res.status }).toEqual({ raw, status: 400 });
        const field = raw.includes('displayName') ? 'displayName' : 'shippingAddress';
        expect(res.body.message).toBe(
          `${field} must be well-formed Unicode text without NUL characters`,
        );
      }
    });

    it('should answer other content types and empty bodies with a 4xx', async () => {
      for (const [type, raw] of [
        ['text/plain', '{"email":"a@b.test","password":"x"}'],
        ['application/x-www-form-urlencoded', 'email=a%40b.test&password=x'],
        ['application/xml', '<login/>'],
        ['application/json; charset=utf-16', '{}'],
        ['application/json', ''],
        ['application/json', '\u0000'],
        ['application/json', '{"email":"a@b.test",'],
      ]) {
        const res = await http.request('POST', '/auth/login', {
          raw,
          headers: { 'content-type': type },
        });
        record('HTTP content types', res.status);
        expect({ type, raw, status: res.status >= 400 && res.status < 500 }).toEqual({
          type,
          raw,
          status: true,
        });
      }
    });

    it(`should refuse a body over ${BODY_LIMIT} bytes with 413 naming the limit, and take one at the limit`, async () => {
      const padded = (bytes: number) => {
        const head = '{"email":"a@b.test","password":"';
        return `${head}${'p'.repeat(bytes - head.length - 2)}"}`;
      };
      for (const [path, token] of [
        ['/auth/login', undefined],
        ['/orders', carolToken],
      ] as const) {
        for (const size of [BODY_LIMIT + 1, 1024 * 1024]) {
          const res = await postRaw('POST', path, padded(size), token);
          record('HTTP body over the limit', res.status);
          expect({ path, size, status: res.status }).toEqual({ path, size, status: 413 });
          expect(res.body).toEqual({
            statusCode: 413,
            error: 'Payload Too Large',
            message: `Request body is larger than the limit of ${BODY_LIMIT} bytes`,
          });
        }
      }
      const atLimit = await postRaw('POST', '/auth/login', padded(BODY_LIMIT));
      expect(atLimit.status).toBe(400); // read and validated: the password is too long
    });

    it('should let a client still sending a body over the limit finish it after the 413, then close', async () => {
      const { hostname, port } = new URL(system.gatewayUrl);
      const socket = tcpConnect({ host: hostname, port: Number(port), allowHalfOpen: true });
      await new Promise((resolve) => socket.once('connect', resolve));
      const errors: Error[] = [];
      socket.on('error', (err) => errors.push(err));
      const answered = new Promise<string>((resolve) => {
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.once('end', () => resolve(Buffer.concat(chunks).toString()));
      });
      const write = (data: string | Buffer) =>
        new Promise<void>((resolve, reject) =>
          socket.write(data, (err) => (err ? reject(err) : resolve())),
        );
      const length = 1024 * 1024;
      const chunk = Buffer.alloc(16 * 1024, 'p');
      await write(
        `POST /auth/login HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${length}\r\n\r\n`,
      );
      await write(chunk);

      // the answer, then the gateway's FIN; the client is still writing its megabyte
      const answer = await answered;
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
        statusCode: 413,
      });
      for (let sent = chunk.length; sent < length; sent += chunk.length) {
        await write(chunk);
      }
      socket.end();
      await new Promise((resolve) => socket.once('close', resolve));
      expect(errors).toEqual([]); // no reset: the gateway read the rest and let it go
    });
  });

  describe('raw NATS payloads', () => {
    const subjects = [
      'orders.create',
      'orders.list',
      'orders.get',
      'profile.get',
      'profile.update',
    ] as const;

    async function rawRequest(
      subject: string,
      data: string,
      token = carolToken,
      timeout = 5000,
    ): Promise<RpcReply> {
      const h = natsHeaders();
      h.set('authorization', `Bearer ${token}`);
      h.set('x-request-id', randomUUID());
      const envelope = `{"pattern":${JSON.stringify(subject)},"data":${data},"id":"${randomUUID()}"}`;
      const msg = await nc.request(subject, new TextEncoder().encode(envelope), {
        headers: h,
        timeout,
      });
      return jc.decode(msg.data) as RpcReply;
    }

    it('should answer hostile data on every subject with a response or an error below 500', async () => {
      const dataFor = (subject: string) =>
        subject === 'orders.create'
          ? orderBody
          : subject === 'profile.update'
            ? profileBody
            : hostile.map(toJson);
      const message = fc
        .constantFrom(...subjects)
        .chain((subject) => dataFor(subject).map((data) => ({ subject, data })));
      await fc.assert(
        fc.asyncProperty(message, async ({ subject, data }) => {
          const reply = await rawRequest(subject, data);
          record(`NATS ${subject}`, reply.err ? reply.err.statusCode : 'response');
          if (reply.err) {
            expect({
              subject,
              data: data.slice(0, 300),
              err: reply.err.statusCode >= 400 && reply.err.statusCode < 500,
            }).toEqual({
              subject,
              data: data.slice(0, 300),
              err: true,
            });
            return;
          }
          if (subject === 'orders.create') {
            orderCreated(parsed(data), reply.response);
          } else if (subject === 'profile.update') {
            profileUpdated(parsed(data), reply.response);
          }
        }),
        { numRuns: runs(150) },
      );
    });

    it('should refuse unstorable text on profile.update with a 400', async () => {
      for (const data of ['{"displayName":"\\u0000"}', '{"displayName":"a\\udc00"}']) {
        const reply = await rawRequest('profile.update', data);
        record('NATS unstorable text', reply.err ? reply.err.statusCode : 'response');
        expect({ data, status: reply.err?.statusCode }).toEqual({ data, status: 400 });
      }
    });

    it('should answer envelopes that are JSON but not requests, or drop them, without dying', async () => {
      // Without an `id`, Nest takes a message for an event: no answer is the expected outcome.
      const notRequests = [
        'null',
        '42',
        '"x"',
        '[]',
        '{}',
        '{"id":"1"}',
        '{"__proto__":{"id":"1"}}',
      ];
      const outcomes = await Promise.all(
        notRequests.flatMap((text) =>
          ['orders.list', 'profile.get'].map(async (subject) => {
            const outcome = await nc
              .request(subject, new TextEncoder().encode(text), { timeout: 500 })
              .then(
                (m) => jc.decode(m.data) as RpcReply,
                (err: { code?: string }) => err.code,
              );
            record(
              `NATS ${subject} (not a request)`,
              typeof outcome === 'string' ? outcome : 'reply',
            );
            return { subject, text, outcome };
          }),
        ),
      );
      for (const { subject, text, outcome } of outcomes) {
        expect({ subject, text, outcome }).toEqual({ subject, text, outcome: 'TIMEOUT' });
      }
      for (const text of [
        '{"pattern":"orders.list","data":{},"id":{"$gt":""}}',
        '{"pattern":"orders.list","data":[1],"id":1}',
        '{"pattern":{"cmd":"admin"},"data":"x","id":"1"}',
        '{"pattern":"orders.list","data":{"limit":{"$ne":null}},"id":"1"}',
      ]) {
        const h = natsHeaders();
        h.set('authorization', `Bearer ${carolToken}`);
        const reply = jc.decode(
          (
            await nc.request('orders.list', new TextEncoder().encode(text), {
              headers: h,
              timeout: 2000,
            })
          ).data,
        ) as RpcReply;
        record('NATS orders.list (odd envelope)', reply.err?.statusCode ?? 'response');
        expect({ text, status: reply.err?.statusCode ?? 200 }).toEqual({
          text,
          status: reply.err ? 400 : 200,
        });
      }
    });

    // strictValidationPipe turns a throwing validator into 400 at every hop, not only the gateway.
    it('should answer 400, not 500, over NATS to input that makes a validator throw', async () => {
      const statuses = {
        unitPrice: (
          await rawRequest(
            'orders.create',
            '{"items":[{"sku":"TINY-1","quantity":1,"unitPrice":1e-7}]}',
          )
        ).err?.statusCode,
        email: (
          await rawRequest('auth.register', '{"email":"\\udfff","password":"a-valid-password-1"}')
        ).err?.statusCode,
        limit: (await rawRequest('orders.list', '{"limit":{"toString":null}}')).err?.statusCode,
      };
      record('NATS validation throws (known bug)', JSON.stringify(statuses));
      expect(statuses).toEqual({ unitPrice: 400, email: 400, limit: 400 });
    });

    it('should answer a payload near the NATS limit with an error, and never send one past it', async () => {
      const items = JSON.stringify(
        Array.from({ length: 20_000 }, (_, i) => ({ sku: `S-${i}`, quantity: 1, unitPrice: 1 })),
      );
      expect(items.length).toBeGreaterThan(600_000);
      const reply = await rawRequest('orders.create', `{"items":${items}}`);
      expect(reply.err).toMatchObject({ statusCode: 400 });
      const long = await rawRequest(
        'profile.update',
        JSON.stringify({ displayName: 'x'.repeat(900_000) }),
      );
      expect(long.err).toMatchObject({ statusCode: 400 });
      await expect(
        rawRequest('profile.update', JSON.stringify({ displayName: 'x'.repeat(1_100_000) })),
      ).rejects.toMatchObject({
        code: 'MAX_PAYLOAD_EXCEEDED',
      });
    });
  });

  describe('after all of it', () => {
    it('should hold exactly the acknowledged orders, each with all its items, and nothing half-written', async () => {
      const rows = await queryServiceDb<{ id: string; user_id: string; n: number | string }>(
        db,
        'orders',
        'SELECT o.id, o.user_id, (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id) AS n FROM orders o',
      );
      const stored = new Map(rows.map((r) => [r.id, Number(r.n)]));
      const daves = rows.filter((r) => r.user_id !== carolId);
      expect(daves.map((r) => r.id).sort()).toEqual([...daveOrders].sort()); // the polluted order, if taken
      for (const r of daves) {
        stored.delete(r.id);
      }
      expect(createdOrders.size).toBeGreaterThan(0);
      expect(Object.fromEntries(stored)).toEqual(Object.fromEntries(createdOrders));
      expect([...stored.values()].every((n) => n >= 1)).toBe(true);
      const orphans = await queryServiceDb<{ n: number | string }>(
        db,
        'orders',
        'SELECT COUNT(*) AS n FROM order_items WHERE order_id NOT IN (SELECT id FROM orders)',
      );
      expect(Number(orphans[0].n)).toBe(0);
      const after = await counts();
      expect(after.orders - before.orders).toBe(createdOrders.size + daveOrders.size);
    });

    it('should hold a user and a profile for each 201 from register, and the last acknowledged profile', async () => {
      const deadline = Date.now() + 5000;
      let after = await counts();
      while (after.profiles - before.profiles < registered && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        after = await counts();
      }
      expect(after.users - before.users).toBe(registered);
      expect(after.profiles - before.profiles).toBe(registered);
      const [row] = await queryServiceDb<{
        display_name: string | null;
        shipping_address: string | null;
      }>(db, 'profile', 'SELECT display_name, shipping_address FROM profiles WHERE user_id = $1', [
        carolId,
      ]);
      expect({ displayName: row.display_name, shippingAddress: row.shipping_address }).toEqual(
        profile,
      );
    });

    it('should have every service process alive and /health at 200', async () => {
      for (const service of SERVICES) {
        const pid = system.pid(service);
        expect({ service, alive: pid !== undefined && isAlive(pid) }).toEqual({
          service,
          alive: true,
        });
      }
      const health = await http.get('/health');
      expect(health.status).toBe(200);
      expect(health.body.checks).toEqual({ nats: 'up', auth: 'up', orders: 'up', profile: 'up' });
      expect((await natsRequest(nc, 'orders.list', {}, carolToken)).response).toEqual(
        expect.any(Array),
      );
    });

    it('should have logged no token, refresh token, password or private key, and no crash', () => {
      expect(SERVICES.every((s) => system.logs[s].length > 0)).toBe(true);
      expect(leaksInLogs(system.logs, [...refreshTokens, ...passwords])).toEqual([]);
    });
  });

  // Nest's own NATS deserializer throws on bytes that are not JSON, outside any handler, and the
  // process would die of the unhandled rejection; startNatsService installs a tolerant one.
  it('should survive bytes that are not JSON on orders.list and profile.get', async () => {
    for (const subject of ['orders.list', 'profile.get']) {
      await nc
        .request(subject, new Uint8Array([0xff, 0x00, 0x7b, 0x22]), { timeout: 500 })
        .catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const service of ['orders', 'profile'] as const) {
      const pid = system.pid(service);
      expect({ service, alive: pid !== undefined && isAlive(pid) }).toEqual({
        service,
        alive: true,
      });
    }
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
