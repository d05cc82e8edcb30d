import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { LINGER_BYTES, LINGER_MS, lingeringClientError } from './client-error';

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
      await new Promise<void>((resolve, reject) =>
        pair.client.write(chunk, (err) => (err ? reject(err) : resolve())),
      );
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
