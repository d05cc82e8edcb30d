import {
  Inject,
  Injectable,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { Events as NatsEvents } from 'nats';
import type { KV, KvEntry, Msg, NatsConnection, QueuedIterator, Subscription } from 'nats';
import { REVOCATION_BUCKET, REVOCATION_SUBJECTS } from '@baton/contracts';
import { BATON_AUTH_OPTIONS } from '../auth.constants';
import type { BatonAuthOptions } from '../baton-auth.options';
import type { Principal } from '../principal';

export type RevocationKind = 'jti' | 'sid';

/** How long past a token's lifetime a revocation is kept, for clock skew. */
const MARGIN_SECONDS = 60;
/** Timeout of the JetStream API calls behind the bucket: writing a revocation, opening it at start. */
const JS_API_TIMEOUT_MS = 2000;
/**
 * Timeout of the API calls of an attempt to replace the watch. While JetStream elects a leader it
 * answers none, and the attempt under way when the leader is back still waits out its timeout, so
 * the copy stays stale for up to this long after the bucket is available again. A healthy cluster
 * answers in milliseconds.
 */
const RESTART_API_TIMEOUT_MS = 1000;
/** A watch that reads nothing for this long before it has caught up is replaced. */
const WATCH_STALL_MS = 2000;
/** What precedes the key in the subject an entry is published on. */
const PUBLISHED_PREFIX = REVOCATION_SUBJECTS.slice(0, -1);
/** The header nats.js marks a delete or a purge with; a put has none. */
const KV_OPERATION_HEADER = 'KV-Operation';
/** The pause between the first two attempts to replace the watch; it doubles up to the next. */
const FIRST_RESTART_DELAY_MS = 250;
/** The longest pause between two attempts to replace the watch. */
const MAX_RESTART_DELAY_MS = 1000;

/**
 * The revocation list, held by NATS in a JetStream key-value bucket (`sid.<id>`, `jti.<id>`) whose
 * entries expire with the longest access-token lifetime. Every service watches the bucket and keeps
 * an in-memory copy, so the check on the request path is a map lookup. After a disconnect the copy
 * counts as stale, and tokens are refused with 503, until the watch has caught up again.
 *
 * It also takes each revocation as it is published, on a plain subscription to the bucket's
 * subjects. The watch's consumer lives on one JetStream node, which need not be the one this
 * connection is on: when that node dies, the watch goes quiet, with nothing to tell, until nats.js
 * has missed two of its 5 s heartbeats and made a new consumer, while the rest of the cluster goes
 * on taking revocations. The subscription lives on this connection, so it hears them meanwhile.
 */
@Injectable()
export class RevocationStore implements OnApplicationShutdown {
  private readonly logger = new Logger(RevocationStore.name);
  /** Revoked ids by kind, each with the time it may be forgotten (seconds since the epoch). */
  private readonly revoked: Record<RevocationKind, Map<string, number>> = {
    jti: new Map(),
    sid: new Map(),
  };
  private nc?: NatsConnection;
  private kv?: KV;
  private watch?: QueuedIterator<KvEntry>;
  private published?: Subscription;
  private current = false;
  private stopped = false;
  private sweeper?: NodeJS.Timeout;

  constructor(@Inject(BATON_AUTH_OPTIONS) private readonly options: BatonAuthOptions) {}

  /** Opens the bucket and resolves once every existing revocation has been read. */
  async start(nc: NatsConnection): Promise<void> {
    this.nc = nc;
    this.published = nc.subscribe(REVOCATION_SUBJECTS, {
      callback: (err, msg) => {
        if (!err) {
          this.applyPublished(msg);
        }
      },
    });
    await this.startWatch(JS_API_TIMEOUT_MS);
    void this.followStatus(nc);
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  /** True once the in-memory copy is known to be complete. */
  get isCurrent(): boolean {
    return this.current;
  }

  isRevoked(jti: string, sid: string): boolean {
    return this.revoked.jti.has(jti) || this.revoked.sid.has(sid);
  }

  /** Refuses a revoked token (401), or any token while this copy is not known to be complete (503). */
  assertUsable(principal: Principal): void {
    if (!this.current) {
      throw new ServiceUnavailableException('Revocation list not available yet; try again');
    }
    if (this.isRevoked(principal.jti, principal.sid)) {
      throw new UnauthorizedException('token has been revoked');
    }
  }

  /**
   * Records a revocation in the bucket (auth only); resolves with its stream sequence once NATS has
   * stored it. `until` is when the revocation may be forgotten (seconds since the epoch).
   */
  async revoke(kind: RevocationKind, id: string, until: number): Promise<number> {
    if (!this.kv) {
      throw new Error('revocation store not started');
    }
    const seq = await this.kv.put(`${kind}.${id}`, JSON.stringify({ until }));
    this.revoked[kind].set(id, until);
    return seq;
  }

  /** Resolves once this copy has seen the given bucket sequence (or after `timeoutMs`). */
  async waitForSequence(seq: number, timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.lastSeq < seq) {
      if (Date.now() > deadline) {
        return false;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    return true;
  }

  private lastSeq = 0;

  /**
   * Opens (or re-creates) the bucket and reads it whole, its API calls timing out after
   * `apiTimeoutMs`; resolves once the copy is complete.
   */
  private async startWatch(apiTimeoutMs: number): Promise<void> {
    if (!this.nc) {
      return;
    }
    const kv = await this.nc.jetstream({ timeout: apiTimeoutMs }).views.kv(REVOCATION_BUCKET, {
      history: 1,
      ttl: (this.options.accessTokenTtl + MARGIN_SECONDS) * 1000,
      replicas: this.options.revocationReplicas ?? 1,
    });
    // Revocations are written with the full timeout, whatever this attempt's: the same bucket,
    // bound without another API call.
    this.kv = await this.nc
      .jetstream({ timeout: JS_API_TIMEOUT_MS, checkAPI: false })
      .views.kv(REVOCATION_BUCKET, { bindOnly: true });
    let initialized!: () => void;
    let failed!: (err: unknown) => void;
    const ready = new Promise<void>((resolve, reject) => {
      initialized = resolve;
      failed = reject;
    });
    // nats.js may never call initializedFn (its ordered consumer reset while reading): a watch
    // that makes no progress for a while is given up, and the caller starts another.
    let stall: NodeJS.Timeout | undefined;
    let catchingUp = true;
    const progressed = () => {
      clearTimeout(stall);
      stall = setTimeout(
        () => failed(new Error('revocation watch stalled before it caught up')),
        WATCH_STALL_MS,
      );
    };
    const watch = await kv.watch({ initializedFn: () => initialized() });
    this.watch = watch;
    progressed();
    const caughtUp = () => {
      catchingUp = false;
      clearTimeout(stall);
    };
    void ready.then(caughtUp, caughtUp);
    void (async () => {
      for await (const entry of watch) {
        this.apply(entry);
        if (catchingUp) {
          progressed();
        }
      }
      throw new Error('revocation watch ended');
    })().catch((err: unknown) => {
      failed(err);
      // A watch that ends without being replaced leaves the copy stale: start another.
      if (this.watch === watch && !this.stopped) {
        this.current = false;
        this.logger.warn(
          `revocation watch ended: ${err instanceof Error ? err.message : String(err)}`,
        );
        void this.restartWatch();
      }
    });
    try {
      await ready;
    } catch (err) {
      if (this.watch === watch) {
        this.watch = undefined;
      }
      watch.stop();
      throw err;
    }
    this.current = true;
  }

  /** Replaces the watch until one succeeds; the copy counts as stale meanwhile. */
  private async restartWatch(): Promise<void> {
    if (this.restarting) {
      return;
    }
    this.restarting = true;
    this.current = false;
    let delay = FIRST_RESTART_DELAY_MS;
    try {
      while (!this.stopped) {
        const old = this.watch;
        this.watch = undefined;
        old?.stop();
        const began = Date.now();
        try {
          await this.startWatch(RESTART_API_TIMEOUT_MS);
          return;
        } catch (err) {
          this.logger.warn(
            `revocation watch restart failed, retrying: ${err instanceof Error ? err.message : String(err)}`,
          );
          // Attempts start `delay` apart. One that timed out has waited that long already, and
          // goes again at once: while JetStream elects a leader every attempt times out, and a
          // pause after each would keep the copy stale for up to that long after the election.
          const pause = delay - (Date.now() - began);
          if (pause > 0) {
            await new Promise((r) => setTimeout(r, pause));
          }
          delay = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
        }
      }
    } finally {
      this.restarting = false;
    }
  }

  private restarting = false;

  private apply(entry: KvEntry): void {
    this.lastSeq = Math.max(this.lastSeq, entry.revision);
    const key = parseKey(entry.key);
    if (!key) {
      return;
    }
    if (entry.operation !== 'PUT') {
      this.revoked[key.kind].delete(key.id);
      return;
    }
    this.record(key.kind, key.id, () => entry.json());
  }

  /**
   * A revocation as it was published to the bucket's subject. Only additions are taken this way: a
   * delete only ever comes through the watch, which has it from the bucket itself.
   */
  private applyPublished(msg: Msg): void {
    const key = parseKey(msg.subject.slice(PUBLISHED_PREFIX.length));
    if (!key || msg.headers?.get(KV_OPERATION_HEADER)) {
      return;
    }
    this.record(key.kind, key.id, () => msg.json());
  }

  private record(kind: RevocationKind, id: string, value: () => unknown): void {
    let until = Math.floor(Date.now() / 1000) + this.options.accessTokenTtl + MARGIN_SECONDS;
    try {
      const read = value() as { until?: unknown } | null;
      if (typeof read?.until === 'number') {
        until = read.until;
      }
    } catch {
      // an unreadable entry still revokes, for the bucket's lifetime
    }
    this.revoked[kind].set(id, until);
  }

  private async followStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (this.stopped) {
        return;
      }
      if (status.type === NatsEvents.Disconnect) {
        this.current = false;
      } else if (status.type === NatsEvents.Reconnect) {
        await this.restartWatch();
      }
    }
  }

  private sweep(): void {
    const now = Math.floor(Date.now() / 1000);
    for (const map of Object.values(this.revoked)) {
      for (const [id, until] of map) {
        if (until < now) {
          map.delete(id);
        }
      }
    }
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.current = false;
    clearInterval(this.sweeper);
    this.watch?.stop();
    this.published?.unsubscribe();
  }
}

/** A bucket key's kind and id (`sid.<id>`, `jti.<id>`), or undefined for any other key. */
function parseKey(key: string): { kind: RevocationKind; id: string } | undefined {
  const dot = key.indexOf('.');
  const kind = key.slice(0, dot);
  return kind === 'jti' || kind === 'sid' ? { kind, id: key.slice(dot + 1) } : undefined;
}
