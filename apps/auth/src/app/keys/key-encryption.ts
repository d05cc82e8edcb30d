import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';

function keyFrom(secret: string, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, salt, 'baton signing key', 32));
}

/** AES-256-GCM with a per-key salt; without a secret the PEM is stored as it is. */
export function sealPrivateKey(pem: string, secret: string | undefined): string {
  if (!secret) {
    return pem;
  }
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFrom(secret, salt), iv);
  const body = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
  return (
    PREFIX + [salt, iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.')
  );
}

export function openPrivateKey(stored: string, secret: string | undefined): string {
  if (!stored.startsWith(PREFIX)) {
    return stored;
  }
  if (!secret) {
    throw new Error('signing keys are encrypted: KEY_ENCRYPTION_SECRET is required');
  }
  const [salt, iv, tag, body] = stored
    .slice(PREFIX.length)
    .split('.')
    .map((p) => Buffer.from(p, 'base64url'));
  const decipher = createDecipheriv('aes-256-gcm', keyFrom(secret, salt), iv);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('signing keys cannot be decrypted: KEY_ENCRYPTION_SECRET is wrong');
  }
}
