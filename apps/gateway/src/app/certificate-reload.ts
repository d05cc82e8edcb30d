import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';

/** The certificate chain and private key files the gateway serves HTTPS with. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** Their contents. */
export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/** What can take a new certificate for the connections it accepts from then on. */
export interface SecureContextHolder {
  setSecureContext(options: TlsPair): void;
}

export type CheckOutcome = 'unchanged' | 'loaded' | 'refused';

export const readTlsPair = (files: TlsFiles): TlsPair => ({
  cert: readFileSync(files.cert),
  key: readFileSync(files.key),
});

const samePair = (a: TlsPair | undefined, b: TlsPair): boolean =>
  a !== undefined && a.cert.equals(b.cert) && a.key.equals(b.key);

/**
 * Serves a renewed certificate without a restart: `check()` reads the two files again and, when
 * they changed and make a usable pair, gives them to the server, which uses them for every
 * connection it accepts from then on (connections already open keep theirs). A pair that does
 * not work (half written by a renewal, a key that is not the certificate's) is refused with one
 * warning, and the certificate loaded before is still served; the next check tries again.
 */
export class CertificateReloader {
  private refused?: TlsPair;
  private unreadable?: string;

  constructor(
    private readonly server: SecureContextHolder,
    private readonly files: TlsFiles,
    private current: TlsPair,
    private readonly logger: LoggerService,
  ) {}

  check(): CheckOutcome {
    let next: TlsPair;
    try {
      next = readTlsPair(this.files);
      this.unreadable = undefined;
    } catch (err) {
      const reason = (err as Error).message;
      if (reason !== this.unreadable) {
        this.unreadable = reason;
        this.logger.warn(
          `could not read TLS_CERT_FILE or TLS_KEY_FILE (${reason}); still serving the certificate loaded before`,
        );
      }
      return 'refused';
    }
    if (samePair(this.current, next)) {
      return 'unchanged';
    }
    if (samePair(this.refused, next)) {
      return 'refused';
    }
    let validTo: string;
    try {
      createSecureContext(next);
      validTo = new X509Certificate(next.cert).validTo;
    } catch (err) {
      this.refused = next;
      this.logger.warn(
        `TLS_CERT_FILE and TLS_KEY_FILE changed but are not a usable pair (${(err as Error).message}); ` +
          'still serving the certificate loaded before',
      );
      return 'refused';
    }
    this.server.setSecureContext(next);
    this.current = next;
    this.refused = undefined;
    this.logger.log(`serving the renewed TLS certificate, valid until ${validTo}`);
    return 'loaded';
  }

  /** Checks every `intervalMs` until the returned function is called. */
  watch(intervalMs: number): () => void {
    const timer = setInterval(() => this.check(), intervalMs).unref();
    return () => clearInterval(timer);
  }
}
