import { randomUUID } from 'node:crypto';

export interface AttemptResult {
  status: number;
  body: unknown;
}

export interface RetryingLoadOptions {
  /** Operations started per second. */
  ratePerSecond: number;
  /** Most operations in progress at once: past it the client starts no more until one ends. */
  maxInFlight?: number;
  /** Attempts per operation, the first included, before the client gives up on it. */
  maxAttempts?: number;
  /** Longest wait between two attempts of one operation, in milliseconds. */
  maxBackoffMs?: number;
  /** Sends one attempt of an operation. Every attempt of an operation gets the same key. */
  send(key: string): Promise<AttemptResult>;
}

export interface LoadStats {
  /** Operations started (each with its own key). */
  sent: number;
  /** Requests made, retries included. */
  attempts: number;
  /** Operations acknowledged with a 2xx. */
  succeeded: number;
  /** Operations the client gave up on (a 4xx, or still failing after every attempt). */
  failed: number;
  /** Requests that were retries of an earlier one. */
  retried: number;
  /** Operations that needed at least one retry. */
  retriedOperations: number;
  /** The longest time in which no operation succeeded, from the start of the load. */
  longestGapMs: number;
  /** The longest an operation took from its first attempt to its acknowledgement. */
  slowestMs: number;
  /** How the attempts that did not succeed ended: status code, or `network`. */
  failedAttempts: Record<string, number>;
  /** The answers those attempts got, counted by status and message (`503 The orders service…`). */
  failureMessages: Record<string, number>;
  /** Body of the acknowledgement, by key. */
  acknowledged: Map<string, unknown>;
  /** Which attempt was acknowledged (1 = the first), by key. */
  acknowledgedAttempt: Map<string, number>;
  /** Operations given up on: their key and how their last attempt ended. */
  givenUp: Map<string, string>;
}

export interface RunningLoad {
  /** The numbers so far. */
  readonly stats: LoadStats;
  /** Resolves once `count` more operations have succeeded (rejects after `timeoutMs`). */
  successes(count: number, timeoutMs?: number): Promise<void>;
  /** Starts `count` operations at once (within `maxInFlight`), on top of the steady rate. */
  burst(count: number): void;
  /** The requests waiting for an answer now: their key, attempt and when that attempt was sent. */
  pending(): { key: string; attempt: number; sentAt: number }[];
  /** Operations in progress now. */
  readonly inFlight: number;
  /** Starts no more operations, waits for the ones in progress to end, and returns the numbers. */
  stop(): Promise<LoadStats>;
}

const retryable = (status: number): boolean => status >= 500 || status === 429;

/** `ECONNREFUSED connect ECONNREFUSED 127.0.0.1:3000`, from fetch's error or its cause. */
function describeError(err: unknown): string {
  // duck-typed: under Jest, fetch's errors come from another realm and fail `instanceof Error`
  const { message, cause } = (err ?? {}) as { message?: unknown; cause?: unknown };
  const inner = (cause ?? {}) as { code?: unknown; message?: unknown };
  if (typeof inner.message === 'string') {
    return [inner.code, inner.message].filter((x) => typeof x === 'string' && x).join(' ');
  }
  return typeof message === 'string' ? message : String(err);
}

const messageOf = (body: unknown): string =>
  typeof body === 'object' && body !== null && 'message' in body
    ? String(body.message)
    : JSON.stringify(body ?? '').slice(0, 80);

/**
 * A client that starts operations at a fixed rate and retries each one, with the same key, on a
 * 5xx, a 429 or a network error, backing off between attempts: what a careful client of an API
 * with `Idempotency-Key` does. It counts what it sent, what was acknowledged and what it retried.
 */
export function startRetryingLoad(options: RetryingLoadOptions): RunningLoad {
  const maxInFlight = options.maxInFlight ?? 32;
  const maxAttempts = options.maxAttempts ?? 30;
  const maxBackoffMs = options.maxBackoffMs ?? 1000;
  const prefix = randomUUID().slice(0, 8);
  const started = Date.now();
  let lastSuccessAt = started;
  let inFlight = 0;
  let stopped = false;
  const running = new Set<Promise<void>>();
  const waiters = new Set<() => void>();
  const sending = new Map<string, { key: string; attempt: number; sentAt: number }>();
  const stats: LoadStats = {
    sent: 0,
    attempts: 0,
    succeeded: 0,
    failed: 0,
    retried: 0,
    retriedOperations: 0,
    longestGapMs: 0,
    slowestMs: 0,
    failedAttempts: {},
    failureMessages: {},
    acknowledged: new Map(),
    acknowledgedAttempt: new Map(),
    givenUp: new Map(),
  };

  const operation = async (key: string): Promise<void> => {
    const first = Date.now();
    let last = '';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        stats.retried++;
        if (attempt === 2) {
          stats.retriedOperations++;
        }
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** (attempt - 1), maxBackoffMs)));
      }
      stats.attempts++;
      sending.set(key, { key, attempt, sentAt: Date.now() });
      let result: AttemptResult | undefined;
      let error = '';
      try {
        result = await options.send(key);
      } catch (err) {
        error = describeError(err);
      } finally {
        sending.delete(key);
      }
      if (result && result.status >= 200 && result.status < 300) {
        const now = Date.now();
        stats.succeeded++;
        stats.acknowledged.set(key, result.body);
        stats.acknowledgedAttempt.set(key, attempt);
        stats.slowestMs = Math.max(stats.slowestMs, now - first);
        stats.longestGapMs = Math.max(stats.longestGapMs, now - lastSuccessAt);
        lastSuccessAt = now;
        for (const wake of waiters) {
          wake();
        }
        return;
      }
      last = result ? String(result.status) : 'network';
      stats.failedAttempts[last] = (stats.failedAttempts[last] ?? 0) + 1;
      const message = `${last} ${result ? messageOf(result.body) : error}`;
      stats.failureMessages[message] = (stats.failureMessages[message] ?? 0) + 1;
      if (result && !retryable(result.status)) {
        break;
      }
    }
    stats.failed++;
    stats.givenUp.set(key, last);
  };

  const launch = (): void => {
    if (stopped || inFlight >= maxInFlight) {
      return;
    }
    inFlight++;
    const key = `${prefix}-${++stats.sent}`;
    const done = operation(key).finally(() => {
      inFlight--;
      running.delete(done);
    });
    running.add(done);
  };

  const ticker = setInterval(launch, 1000 / options.ratePerSecond);
  launch();

  return {
    stats,
    get inFlight() {
      return inFlight;
    },
    successes(count: number, timeoutMs = 60_000): Promise<void> {
      const target = stats.succeeded + count;
      return new Promise((resolve, reject) => {
        const check = () => {
          if (stats.succeeded >= target) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const seen = JSON.stringify(stats.failedAttempts);
          reject(
            new Error(
              `${count} more acknowledgements did not come within ${timeoutMs} ms ` +
                `(succeeded ${stats.succeeded}, in flight ${inFlight}, failed attempts ${seen})`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    pending() {
      return [...sending.values()];
    },
    burst(count: number): void {
      for (let i = 0; i < count; i++) {
        launch();
      }
    },
    async stop(): Promise<LoadStats> {
      stopped = true;
      clearInterval(ticker);
      while (running.size > 0) {
        await Promise.all([...running]);
      }
      return stats;
    },
  };
}
