// The floor: the same hops as Baton's routes written directly on node:http and nats, with an
// in-memory store and no authentication, no validation, no framework. /health asks every service
// over NATS, as Baton's does (DESIGN.md: 200 when NATS and the databases answer).
//   node floor.cjs gateway|auth|orders|profile   (NATS_URL, PORT)
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const { connect, JSONCodec } = require('nats');

const codec = JSONCodec();
const role = process.argv[2];

async function main() {
  const nc = await connect({ servers: process.env.NATS_URL });
  const serve = (subject, handler) =>
    nc.subscribe(subject, {
      queue: `floor.${role}`,
      callback: async (_err, msg) =>
        msg.respond(codec.encode(await handler(codec.decode(msg.data)))),
    });
  const user = {
    id: '00000000-0000-4000-8000-000000000001',
    email: 'floor@example.test',
    roles: ['user'],
  };
  if (role !== 'gateway') {
    serve(`floor.${role}.health`, () => ({ status: 'ok' }));
  }
  if (role === 'auth') {
    serve('floor.auth.me', () => user);
  } else if (role === 'profile') {
    serve('floor.profile.get', () => ({
      userId: user.id,
      displayName: null,
      shippingAddress: '1 Floor Road',
    }));
  } else if (role === 'orders') {
    const orders = new Map();
    serve('floor.orders.get', ({ id }) => orders.get(id) ?? null);
    serve('floor.orders.list', ({ limit }) => [...orders.values()].slice(-limit).reverse());
    serve('floor.orders.create', async ({ items }) => {
      const profile = codec.decode(
        (await nc.request('floor.profile.get', codec.encode({}), { timeout: 5000 })).data,
      );
      const order = {
        id: randomUUID(),
        userId: user.id,
        items,
        total: items.reduce((sum, i) => sum + Math.round(i.unitPrice * 100) * i.quantity, 0) / 100,
        status: 'placed',
        shippingAddress: profile.shippingAddress,
        createdAt: new Date().toISOString(),
      };
      orders.set(order.id, order);
      return order;
    });
  } else if (role === 'gateway') {
    const ask = async (subject, data) =>
      codec.decode((await nc.request(subject, codec.encode(data), { timeout: 5000 })).data);
    const server = http.createServer(async (req, res) => {
      const send = (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const url = new URL(req.url, 'http://floor');
      try {
        if (url.pathname === '/health') {
          // as Baton's: NATS and every service (with its store) answer
          const services = ['auth', 'orders', 'profile'];
          await Promise.all(services.map((s) => ask(`floor.${s}.health`, {})));
          return send(200, {
            status: 'ok',
            checks: { nats: 'up', auth: 'up', orders: 'up', profile: 'up' },
          });
        }
        if (url.pathname === '/auth/me') {
          return send(200, await ask('floor.auth.me', {}));
        }
        if (url.pathname === '/orders' && req.method === 'GET') {
          const limit = Number(url.searchParams.get('limit') ?? 20);
          return send(200, await ask('floor.orders.list', { limit }));
        }
        if (url.pathname.startsWith('/orders/')) {
          const order = await ask('floor.orders.get', { id: url.pathname.slice(8) });
          return order ? send(200, order) : send(404, { statusCode: 404 });
        }
        if (url.pathname === '/orders' && req.method === 'POST') {
          let body = '';
          for await (const chunk of req) {
            body += chunk;
          }
          return send(201, await ask('floor.orders.create', JSON.parse(body)));
        }
        send(404, {});
      } catch (err) {
        send(503, { message: String(err) });
      }
    });
    server.listen(Number(process.env.PORT), '127.0.0.1', () =>
      console.log('floor gateway listening'),
    );
    return;
  }
  await nc.flush();
  console.log(`floor ${role} listening on NATS`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
