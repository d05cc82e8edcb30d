import { STATUS_CODES } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** How long a refused connection is read, and discarded, before it is cut. */
export const LINGER_MS = 2000;
/** How much of a refused request is read, and discarded, before the connection is cut. */
export const LINGER_BYTES = 2 * 1024 * 1024;

const answered = new WeakSet<Socket>();

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request: headers over the 16 KB
 * limit (431), a request too slow to arrive (408), anything malformed (400). The answers are
 * Fastify's own, but the connection is closed gently.
 *
 * Fastify writes its answer and destroys the socket at once. With the rest of an oversized request
 * still unread, that sends the client a reset, and the client can see it before the answer: a
 * client writing a 1 MB header got EPIPE instead of 431 about one time in sixty. Here the gateway
 * half-closes after its answer and keeps reading, and discarding, what is still coming.
 */
export function lingeringClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection is gone. Node reports every later chunk of a refused request again:
  // the first report answers.
  if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) {
    return;
  }
  answered.add(socket);
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Exceeded maximum allowed HTTP header size']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Client Timeout']
        : [400, 'Client Error'];
  const reason = STATUS_CODES[status] ?? '';
  const body = JSON.stringify({ error: reason, message, statusCode: status });
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
  );
  discardThenCut(socket, socket);
}

/**
 * The same gentle close for an answer that closes its connection while the request's body is
 * still arriving: Fastify's 413 for a body over the limit (it refuses a body it cannot parse once
 * the body is read, and keeps the connection after a 415). Called from an onSend hook, before the
 * answer is written, with its Connection header.
 *
 * Node's HTTP server closes such a connection, once the answer is written, with the socket's
 * destroySoon() where it has one and socket.end() where it has not. destroySoon() destroys the
 * socket with the rest of the body unread, and the reset can reach the client before the answer:
 * a client in another process posting 1 MB got EPIPE instead of 413 about one time in thirty, one
 * posting 4 MB two times in five. Here destroySoon() is the half-close alone, and the rest of the
 * body is read through the request and discarded, up to LINGER_MS or LINGER_BYTES. (Read from now:
 * a request Node discards itself once the answer is written reports none of what it reads.)
 */
export function lingerIfBodyUnread(request: IncomingMessage, connection: unknown): void {
  if (request.complete || String(connection).toLowerCase() !== 'close') {
    return;
  }
  const socket = request.socket;
  socket.destroySoon = () => socket.end();
  discardThenCut(socket, request);
}

/** lingerIfBodyUnread as the gateway's Fastify onSend hook. */
export function lingerIfBodyUnreadOnSend<P>(
  request: { raw: IncomingMessage },
  reply: { getHeader(name: string): unknown },
  payload: P,
  done: (err: null, payload: P) => void,
): void {
  lingerIfBodyUnread(request.raw, reply.getHeader('connection'));
  done(null, payload);
}

/**
 * Reads what the client still sends on `incoming` and drops it, then cuts the connection at
 * LINGER_MS or past LINGER_BYTES, whichever is first, as nginx's lingering close does.
 */
function discardThenCut(socket: Socket, incoming: Readable): void {
  let discarded = 0;
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  cut.unref();
  socket.on('close', () => clearTimeout(cut));
  incoming.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > LINGER_BYTES) {
      socket.destroy();
    }
  });
  incoming.resume();
}
