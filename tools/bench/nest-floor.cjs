// The framework floor: the floor's hops and in-memory stores (floor.cjs) on NestJS as it comes:
// the gateway on Nest with the Fastify adapter, the services as Nest NATS microservices
// (@nestjs/microservices' own NATS server and packets). No authentication, validation, logging,
// security headers or database. It says how much of the distance between Baton and the floor the
// framework takes by itself.
//   node nest-floor.cjs gateway|auth|orders|profile   (NATS_URL, PORT)
require('reflect-metadata');
const {
  Body,
  Controller,
  Get,
  Module,
  NotFoundException,
  Param,
  Post,
  Query,
} = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { MessagePattern, Payload, Transport } = require('@nestjs/microservices');
const { randomUUID } = require('node:crypto');
const { connect, JSONCodec } = require('nats');

const codec = JSONCodec();
const role = process.argv[2];
const user = {
  id: '00000000-0000-4000-8000-000000000001',
  email: 'floor@example.test',
  roles: ['user'],
};

/** Applies decorators the way TypeScript would (this file is plain JavaScript). */
function decorate(cls, routes) {
  for (const [method, decorators, params = []] of routes) {
    const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, method);
    for (const d of decorators) {
      d(cls.prototype, method, descriptor);
    }
    params.forEach((p, index) => p(cls.prototype, method, index));
  }
  Controller()(cls);
  class AppModule {}
  Module({ controllers: [cls] })(AppModule);
  return AppModule;
}

/** A Nest request packet, as Baton's client sends it. */
const packet = (pattern, data) => codec.encode({ pattern, data, id: randomUUID() });

async function service(handlers) {
  let ask;
  class Handlers {}
  for (const [name, handler] of Object.entries(handlers)) {
    Handlers.prototype[name] = (data) => handler(data, ask);
  }
  const module = decorate(
    Handlers,
    Object.keys(handlers).map((name) => [
      name,
      [MessagePattern(`nest.${role}.${name}`)],
      [Payload()],
    ]),
  );
  const app = await NestFactory.createMicroservice(module, {
    transport: Transport.NATS,
    options: { servers: process.env.NATS_URL, queue: `nest.${role}` },
    logger: false,
  });
  const nc = await connect({ servers: process.env.NATS_URL });
  ask = async (subject, data) =>
    codec.decode((await nc.request(subject, packet(subject, data), { timeout: 5000 })).data)
      .response;
  await app.listen();
  console.log(`nest floor ${role} listening on NATS`);
}

async function gateway() {
  const nc = await connect({ servers: process.env.NATS_URL });
  const ask = async (subject, data) =>
    codec.decode((await nc.request(subject, packet(subject, data), { timeout: 5000 })).data)
      .response;
  class Routes {
    async health() {
      await Promise.all(['auth', 'orders', 'profile'].map((s) => ask(`nest.${s}.health`, {})));
      return { status: 'ok', checks: { nats: 'up', auth: 'up', orders: 'up', profile: 'up' } };
    }
    me() {
      return ask('nest.auth.me', {});
    }
    list(limit) {
      return ask('nest.orders.list', { limit: Number(limit ?? 20) });
    }
    async get(id) {
      const order = await ask('nest.orders.get', { id });
      if (!order) {
        throw new NotFoundException();
      }
      return order;
    }
    create(body) {
      return ask('nest.orders.create', body);
    }
  }
  const module = decorate(Routes, [
    ['health', [Get('health')]],
    ['me', [Get('auth/me')]],
    ['list', [Get('orders')], [Query('limit')]],
    ['get', [Get('orders/:id')], [Param('id')]],
    ['create', [Post('orders')], [Body()]],
  ]);
  const app = await NestFactory.create(module, new FastifyAdapter(), { logger: false });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  console.log('nest floor gateway listening');
}

const orders = new Map();
const services = {
  auth: { health: () => ({ status: 'ok' }), me: () => user },
  profile: {
    health: () => ({ status: 'ok' }),
    get: () => ({ userId: user.id, displayName: null, shippingAddress: '1 Floor Road' }),
  },
  orders: {
    health: () => ({ status: 'ok' }),
    get: ({ id }) => orders.get(id) ?? null,
    list: ({ limit }) => [...orders.values()].slice(-limit).reverse(),
    create: async ({ items }, ask) => {
      const profile = await ask('nest.profile.get', {});
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
    },
  },
};

(role === 'gateway' ? gateway() : service(services[role])).catch((err) => {
  console.error(err);
  process.exit(1);
});
