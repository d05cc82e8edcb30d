/** NATS subjects of the Baton contract (see DESIGN.md). */
export const Subjects = {
  auth: {
    register: 'auth.register',
    login: 'auth.login',
    refresh: 'auth.refresh',
    logout: 'auth.logout',
    me: 'auth.me',
    jwks: 'auth.jwks',
    serviceToken: 'auth.service-token',
    health: 'auth.health',
    admin: {
      setRoles: 'auth.admin.set-roles',
      revokeUser: 'auth.admin.revoke-user',
      audit: 'auth.admin.audit',
      rotateKeys: 'auth.admin.rotate-keys',
    },
  },
  orders: {
    create: 'orders.create',
    list: 'orders.list',
    get: 'orders.get',
    health: 'orders.health',
  },
  profile: {
    get: 'profile.get',
    update: 'profile.update',
    health: 'profile.health',
  },
} as const;

/** Events: published, never answered. */
export const Events = {
  userRegistered: 'auth.user.registered',
  revoked: 'auth.revoked',
  keysRotated: 'auth.keys.rotated',
} as const;

/** The JetStream key-value bucket that holds revocations; every service watches it. */
export const REVOCATION_BUCKET = 'baton_revocations';
/** The subjects the bucket's entries are published on (`$KV.<bucket>.<key>`). */
export const REVOCATION_SUBJECTS = `$KV.${REVOCATION_BUCKET}.>`;

/** Queue group names: replicas of one service share its subjects. */
export const queueGroup = (service: string): string => `baton.${service}`;
