import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

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
 * half-closes after its answer and keeps reading, and discarding, what is still coming. It stops
 * at LINGER_MS or LINGER_BYTES, whichever is first, as nginx's lingering close does.
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
  let discarded = 0;
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  cut.unref();
  socket.on('close', () => clearTimeout(cut));
  socket.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > LINGER_BYTES) {
      socket.destroy();
    }
  });
  socket.resume();
}
