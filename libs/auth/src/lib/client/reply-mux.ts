import { createInbox, ErrorCode, NatsError } from 'nats';
import type { Msg, MsgHdrs, NatsConnection, Subscription } from 'nats';

interface Pending {
  resolve(msg: Msg): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
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
 */
export class ReplyMux {
  private readonly pending = new Map<string, Pending>();
  private readonly inbox: string;
  private sequence = 0;
  private failed = false;
  private readonly subscription: Subscription;

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
      try {
        this.nc.publish(subject, data, { reply: this.inbox + token, headers });
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(token);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
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
