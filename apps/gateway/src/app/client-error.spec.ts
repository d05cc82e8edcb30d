import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import {
  LINGER_BYTES,
  LINGER_MS,
  lingerIfBodyUnread,
  lingerIfBodyUnreadOnSend,
  lingeringClientError,
} from './client-error';

/**
 * A connected pair of real sockets on loopback: the server's side and the client's. The client
 * keeps its own side open when the server ends (allowHalfOpen), as one still sending would.
 */
async function socketPair(): Promise<{ server: Server; accepted: Socket; client: Socket }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect({
    port: (server.address() as AddressInfo).port,
    host: '127.0.0.1',
    allowHalfOpen: true,
  });
  return { server, accepted: await accepted, client };
}

/** Writes, and resolves once the data is handed to the kernel; rejects when the connection is gone. */
const write = (client: Socket, data: string | Buffer) =>
  new Promise<void>((resolve, reject) =>
    client.write(data, (err) => (err ? reject(err) : resolve())),
  );

const parserError = (code: string) => Object.assign(new Error(code), { code });

/** Everything the client reads until the server's side ends or cuts the connection. */
function readAll(client: Socket): Promise<{ text: string; ended: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let ended = false;
    client.on('data', (c: Buffer) => chunks.push(c));
    const done = () => resolve({ text: Buffer.concat(chunks).toString(), ended });
    client.on('end', () => {
      ended = true;
      done();
    });
    client.on('error', () => undefined);
    client.on('close', done);
  });
}

describe(lingeringClientError.name, () => {
  let pair: Awaited<ReturnType<typeof socketPair>>;

  beforeEach(async () => {
    pair = await socketPair();
  });

  afterEach(async () => {
    jest.useRealTimers();
    pair.client.destroy();
    pair.accepted.destroy();
    await new Promise((resolve) => pair.server.close(resolve));
  });

  it('should answer 431 once for headers over the limit, then end the connection gently', async () => {
    const read = readAll(pair.client);

    lingeringClientError(parserError('HPE_HEADER_OVERFLOW'), pair.accepted);
    // Node reports each later chunk of the refused request again
    lingeringClientError(parserError('HPE_HEADER_OVERFLOW'), pair.accepted);
    pair.client.end();

    const { text, ended } = await read;
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(text.match(/HTTP\/1\.1/g)).toHaveLength(1);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({
      error: 'Request Header Fields Too Large',
      message: 'Exceeded maximum allowed HTTP header size',
      statusCode: 431,
    });
    expect(ended).toBe(true); // a FIN after the answer, not a reset
  });

  it.each([
    ['ERR_HTTP_REQUEST_TIMEOUT', 'HTTP/1.1 408 Request Timeout'],
    ['HPE_INVALID_METHOD', 'HTTP/1.1 400 Bad Request'],
  ])('should answer %s with %s', async (code, statusLine) => {
    const read = readAll(pair.client);

    lingeringClientError(parserError(code), pair.accepted);
    pair.client.end();

    expect((await read).text.split('\r\n')[0]).toBe(statusLine);
  });

  it('should write nothing to a connection that was reset', async () => {
    const read = readAll(pair.client);

    lingeringClientError(parserError('ECONNRESET'), pair.accepted);
    pair.accepted.destroy();

    expect((await read).text).toBe('');
  });

  it('should keep reading what the client still sends, and cut it past LINGER_BYTES', async () => {
    // the time limit never comes: only the byte limit can cut this connection
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const read = readAll(pair.client);
    lingeringClientError(parserError('HPE_HEADER_OVERFLOW'), pair.accepted);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const cut = new Promise((resolve) => pair.accepted.once('close', resolve));
    let written = 0;
    // the client goes on writing its oversized request; the gateway's side discards it
    while (written <= LINGER_BYTES && !pair.accepted.destroyed) {
      await write(pair.client, chunk);
      written += chunk.length;
    }
    await cut;

    expect(pair.accepted.destroyed).toBe(true);
    expect(written).toBeGreaterThan(LINGER_BYTES);
    expect((await read).text).toContain(' 431 ');
  });

  it('should cut a client that keeps its side open past LINGER_MS', () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    lingeringClientError(parserError('HPE_HEADER_OVERFLOW'), pair.accepted);

    jest.advanceTimersByTime(LINGER_MS - 1);
    expect(pair.accepted.destroyed).toBe(false);
    jest.advanceTimersByTime(1);
    expect(pair.accepted.destroyed).toBe(true);
  });
});

describe(lingerIfBodyUnread.name, () => {
  const BODY_LIMIT = 1024;
  let app: FastifyInstance;
  let accepted: Promise<Socket>;

  /** A raw client connected to the Fastify server, which has the gateway's onSend hook. */
  async function connectClient(): Promise<Socket> {
    const address = app.server.address() as AddressInfo;
    const client = connect({ port: address.port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise((resolve) => client.once('connect', resolve));
    return client;
  }

  /** Resolves with the answer once the server has ended its side (a FIN), rejects on a reset. */
  const answerThenFin = (client: Socket) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      client.on('data', (c: Buffer) => chunks.push(c));
      client.once('end', () => resolve(Buffer.concat(chunks).toString()));
      client.once('error', reject);
    });

  const head = (length: number | 'chunked') =>
    'POST /orders HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n' +
    (length === 'chunked'
      ? 'Transfer-Encoding: chunked\r\n\r\n'
      : `Content-Length: ${length}\r\n\r\n`);
  const piece = (body: Buffer, framing: number | 'chunked') =>
    framing === 'chunked'
      ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')])
      : body;

  beforeEach(async () => {
    app = Fastify({ bodyLimit: BODY_LIMIT });
    app.post('/orders', (_request, reply) => reply.send({ created: true }));
    app.addHook('onSend', lingerIfBodyUnreadOnSend);
    accepted = new Promise((resolve) => app.server.once('connection', resolve));
    await app.listen({ port: 0, host: '127.0.0.1' });
  });

  afterEach(async () => {
    jest.useRealTimers();
    (await accepted).destroy();
    await app.close();
  });

  it.each([['Content-Length', 512 * 1024 + 16] as const, ['chunked', 'chunked'] as const])(
    'should answer 413 to a body over the limit (%s), then take the rest of it and end with a FIN',
    async (_framing, framing) => {
      const client = await connectClient();
      const answer = answerThenFin(client);
      const chunk = Buffer.alloc(16 * 1024, 'a');
      await write(client, Buffer.concat([Buffer.from(head(framing)), piece(chunk, framing)]));

      const text = await answer;
      expect(text.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
      expect(text.toLowerCase()).toContain('\r\nconnection: close\r\n');
      // the client, still sending when the answer came, finishes its body: no reset cuts it
      const errors: Error[] = [];
      client.on('error', (err) => errors.push(err));
      for (let sent = chunk.length; sent < 512 * 1024; sent += chunk.length) {
        await write(client, piece(chunk, framing));
      }
      if (framing === 'chunked') {
        await write(client, '0\r\n\r\n');
      } else {
        await write(client, Buffer.alloc(16, 'a'));
      }
      client.end();
      await new Promise((resolve) => client.once('close', resolve));
      expect(errors).toEqual([]);
    },
  );

  it('should cut a client that goes on sending past LINGER_BYTES after the answer', async () => {
    // the time limit never comes: only the byte limit can cut this connection
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const client = await connectClient();
    const answer = answerThenFin(client);
    // more than loopback's socket buffers can hold: the client can only get this far if read
    const length = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    await write(client, Buffer.concat([Buffer.from(head(length)), chunk]));
    expect((await answer).split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    const server = await accepted;
    const closed = new Promise((resolve) =>
      server.destroyed ? resolve(undefined) : server.once('close', resolve),
    );
    let written = chunk.length;
    try {
      while (written < length) {
        await write(client, chunk);
        written += chunk.length;
      }
      client.end(); // not cut: the whole body went through, and the client's end closes it
    } catch {
      // the cut: the client's next write finds the connection reset
    }
    await closed;

    expect(written).toBeGreaterThan(LINGER_BYTES);
    expect(written).toBeLessThan(length);
    client.destroy();
  });

  it('should cut a client that keeps its side open past LINGER_MS after the answer', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const client = await connectClient();
    const answer = answerThenFin(client);
    await write(client, head(64 * 1024) + 'a'.repeat(2 * BODY_LIMIT));
    await answer;
    const server = await accepted;

    jest.advanceTimersByTime(LINGER_MS - 1);
    expect(server.destroyed).toBe(false);
    jest.advanceTimersByTime(1);
    expect(server.destroyed).toBe(true);
    client.destroy();
  });

  it('should leave a connection alone when its request arrived whole', async () => {
    const client = await connectClient();
    const answer = answerThenFin(client);
    const body = '{"note":';
    await write(
      client,
      head(body.length).replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n') + body,
    );

    expect((await answer).split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(Object.hasOwn(await accepted, 'destroySoon')).toBe(false); // Node's own close
    client.destroy();
  });
});
