import { createInbox, ErrorCode, NatsError } from 'nats';
import type { Msg, MsgHdrs, NatsConnection, Subscription } from 'nats';

interface Pending {
  resolve(msg: Msg): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** A message waiting for the next write; `failed` learns if the connection refuses it. */
interface Outgoing {
  subject: string;
  data: Uint8Array;
  headers: MsgHdrs;
  reply?: string;
  sent?(): void;
  failed(err: Error): void;
}

/**
 * Request-reply over one reply subscription per connection (`<inbox prefix>.<nuid>.*`): each request
 * gets its own reply subject under it, and the answer is matched by that subject's last token.
 *
 * nats.js's `request()` does the same, but it settles every request twice: once with the answer,
 * then by rejecting a second promise with a freshly built `Cancelled` error (a stack trace) that
 * nobody reads. On the gateway that was several percent of the CPU a request costs.
 *
 * Answers: the reply message; a NATS `503` status (nobody subscribes to the subject) rejects at
 * once with `NoResponders`; no answer within the timeout rejects with `Timeout`; a connection that
 * closes rejects what is still pending. A late answer, after its timeout, is dropped.
 *
 * Outgoing messages (requests, and events through `publish`) are handed to the connection together,
 * once per turn of the event loop (`setImmediate`), in the order they were given. nats.js writes what
 * it was handed within one microtask turn in one socket write, but each HTTP request at the gateway,
 * and each batch of messages at a service, is its own macrotask, so without this every request was a
 * write of its own. On loopback and on a LAN a socket write is the dearest thing a request does (the
 * sender's kernel runs the peer's TCP receive path as well); under load, one write now carries the
 * requests of every connection that was ready in that turn. Unloaded, a request waits for the rest of
 * its turn, a few microseconds.
 */
export class ReplyMux {
  private readonly pending = new Map<string, Pending>();
  private readonly inbox: string;
  private sequence = 0;
  private failed = false;
  private readonly subscription: Subscription;
  private outgoing: Outgoing[] = [];

  constructor(readonly nc: NatsConnection) {
    // the connection's own inbox prefix: the one its NATS permissions let it subscribe under
    const prefix = (nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
    this.inbox = `${createInbox(prefix)}.`;
    this.subscription = nc.subscribe(`${this.inbox}*`, {
      callback: (err, msg) => (err ? this.failAll(err) : this.answer(msg)),
    });
    void nc
      .closed()
      .then((err) => this.failAll(err ?? NatsError.errorForCode(ErrorCode.ConnectionClosed)));
  }

  /** Requests still waiting for their answer. */
  get size(): number {
    return this.pending.size;
  }

  /** False once its connection closed or its reply subscription failed: make a new one. */
  get usable(): boolean {
    return !this.failed && !this.nc.isClosed();
  }

  request(subject: string, data: Uint8Array, headers: MsgHdrs, timeoutMs: number): Promise<Msg> {
    return new Promise<Msg>((resolve, reject) => {
      this.sequence = (this.sequence + 1) % Number.MAX_SAFE_INTEGER;
      const token = String(this.sequence);
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(NatsError.errorForCode(ErrorCode.Timeout));
      }, timeoutMs);
      this.pending.set(token, { resolve, reject, timer });
      this.enqueue({
        subject,
        data,
        headers,
        reply: this.inbox + token,
        failed: (err) => {
          clearTimeout(timer);
          if (this.pending.delete(token)) {
            reject(err);
          }
        },
      });
    });
  }

  /** Publishes a message with no reply; resolves once it has been handed to the connection. */
  publish(subject: string, data: Uint8Array, headers: MsgHdrs): Promise<void> {
    return new Promise<void>((sent, failed) =>
      this.enqueue({ subject, data, headers, sent, failed }),
    );
  }

  /** Hands what is waiting to the connection now (before it is closed, say). */
  readonly flush = (): void => {
    const batch = this.outgoing;
    this.outgoing = [];
    for (const m of batch) {
      try {
        this.nc.publish(m.subject, m.data, { reply: m.reply, headers: m.headers });
        m.sent?.();
      } catch (err) {
        m.failed(err instanceof Error ? err : new Error(String(err)));
      }
    }
  };

  private enqueue(message: Outgoing): void {
    if (this.outgoing.push(message) === 1) {
      setImmediate(this.flush);
    }
  }

  private answer(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length);
    const request = this.pending.get(token);
    if (!request) {
      return; // answered after its timeout
    }
    this.pending.delete(token);
    clearTimeout(request.timer);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      request.reject(NatsError.errorForCode(ErrorCode.NoResponders));
    } else {
      request.resolve(msg);
    }
  }

  private failAll(err: Error): void {
    this.failed = true;
    if (!this.subscription.isClosed()) {
      this.subscription.unsubscribe();
    }
    for (const request of this.pending.values()) {
      clearTimeout(request.timer);
      request.reject(err);
    }
    this.pending.clear();
  }
}
