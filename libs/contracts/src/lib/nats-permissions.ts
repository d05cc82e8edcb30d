import { Events, queueGroup, REVOCATION_BUCKET, REVOCATION_SUBJECTS, Subjects } from './subjects';

/**
 * What one service's NATS user may do: the one place that says it. `npm run nats:config` turns it
 * into the nats-server authorization block (`deploy/nats/nats-server.conf`).
 *
 * `subscribe` entries are a subject, or `subject queue`: that subject only in that queue group
 * (a nats-server queue permission), which is how a service answers on its own subjects. Replies
 * need no publish permission: every user has `allow_responses`, so it may answer a request it
 * received, once. A service's own replies come to its private inbox prefix (below).
 */
export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

/**
 * The prefix of this service's reply subjects (nats.js `inboxPrefix`). Only this service's user may
 * subscribe under it, so no other service can read the answers it gets (tokens, profiles…).
 */
export const natsInboxPrefix = (service: string): string => `_INBOX.${service}`;

/** The JetStream stream behind the revocation bucket. */
const REVOCATION_STREAM = `KV_${REVOCATION_BUCKET}`;

/**
 * What watching the revocation bucket takes (nats.js 2.x `views.kv` on an existing bucket, then
 * `watch`), and no more; found with `nats-server -DV` and checked by libs/auth's nats-security spec.
 */
export const REVOCATION_WATCH_PERMISSIONS: readonly string[] = [
  // jetstreamManager(): the account has JetStream
  '$JS.API.INFO',
  // views.kv(): the bucket exists (only a missing one is created, which needs the owner's rights)
  `$JS.API.STREAM.INFO.${REVOCATION_STREAM}`,
  // watch(): an ephemeral ordered consumer, with its filter in the subject (servers 2.9+) or not
  `$JS.API.CONSUMER.CREATE.${REVOCATION_STREAM}`,
  `$JS.API.CONSUMER.CREATE.${REVOCATION_STREAM}.>`,
  // watch(): flow-control replies. allow_responses covers one reply, but a stalled consumer gets
  // the same flow-control request again, and a refused second reply would stall the watch for good.
  `$JS.FC.${REVOCATION_STREAM}.>`,
];

/** What owning the revocation bucket adds (auth only): creating it, changing it, writing to it. */
export const REVOCATION_OWNER_PERMISSIONS: readonly string[] = [
  `$JS.API.STREAM.CREATE.${REVOCATION_STREAM}`,
  `$JS.API.STREAM.UPDATE.${REVOCATION_STREAM}`,
  REVOCATION_SUBJECTS,
];

/** Every subject in a (nested) subject map such as `Subjects.auth`. */
export function subjectsIn(map: object): string[] {
  return Object.values(map).flatMap((value: unknown) =>
    typeof value === 'string' ? [value] : subjectsIn(value as object),
  );
}

/** Answering these subjects: subscribing to them in the service's own queue group only. */
const answering = (service: string, subjects: readonly string[]): string[] =>
  subjects.map((subject) => `${subject} ${queueGroup(service)}`);

/**
 * What every process that uses `@baton/auth` needs: the revocation watch, and the revocations as
 * they are published; the key-rotation event (every instance, so no queue group), replies in its
 * own inbox. `health` is the service's own health subject, which its container healthcheck asks
 * with the service's credentials.
 */
function baseline(service: string, health?: string): NatsPermissions {
  return {
    publish: [...REVOCATION_WATCH_PERMISSIONS, ...(health ? [health] : [])],
    subscribe: [REVOCATION_SUBJECTS, Events.keysRotated, `${natsInboxPrefix(service)}.>`],
  };
}

function merge(a: NatsPermissions, b: Partial<NatsPermissions>): NatsPermissions {
  return {
    publish: [...a.publish, ...(b.publish ?? [])],
    subscribe: [...a.subscribe, ...(b.subscribe ?? [])],
  };
}

/** What a service asks auth for: the JWKS, and its own service token. */
const AUTH_CLIENT = [Subjects.auth.jwks, Subjects.auth.serviceToken];

/** The core services' permissions. */
export const NATS_PERMISSIONS: Readonly<Record<string, NatsPermissions>> = {
  // auth answers auth.*, publishes the auth events, and owns the revocation bucket.
  auth: merge(baseline('auth', Subjects.auth.health), {
    publish: [
      ...REVOCATION_OWNER_PERMISSIONS,
      Events.userRegistered,
      Events.revoked,
      Events.keysRotated,
    ],
    subscribe: answering('auth', subjectsIn(Subjects.auth)),
  }),
  // profile answers profile.* and creates a profile when a user registers.
  profile: merge(baseline('profile', Subjects.profile.health), {
    publish: AUTH_CLIENT,
    subscribe: answering('profile', [...subjectsIn(Subjects.profile), Events.userRegistered]),
  }),
  // orders answers orders.* and asks profile for the caller's profile.
  orders: merge(baseline('orders', Subjects.orders.health), {
    publish: [...AUTH_CLIENT, Subjects.profile.get],
    subscribe: answering('orders', subjectsIn(Subjects.orders)),
  }),
  // The gateway answers nothing on NATS: it only sends requests.
  gateway: merge(baseline('gateway'), {
    publish: [
      ...subjectsIn(Subjects.auth).filter((s) => s !== Subjects.auth.serviceToken),
      ...subjectsIn(Subjects.orders),
      ...subjectsIn(Subjects.profile),
    ],
  }),
};

/**
 * A service's permissions: the core services' from above; a service made by
 * `nx g @baton/tools:service` answers `<name>.>` in its queue group and may ask auth and
 * `profile.get` (what the generated code does). Give it an entry above once it does more.
 */
export function natsPermissionsFor(service: string): NatsPermissions {
  return (
    NATS_PERMISSIONS[service] ??
    merge(baseline(service, `${service}.health`), {
      publish: [...AUTH_CLIENT, Subjects.profile.get],
      subscribe: answering(service, [`${service}.>`]),
    })
  );
}
