import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { makeSelfSignedCertificate } from '@baton/testing';
import { CertificateReloader, readTlsPair } from './certificate-reload';
import type { TlsFiles, TlsPair } from './certificate-reload';

/* Certificates made with the openssl CLI, as an operator's renewal would leave them on disk. */

const makePair = (dir: string, name: string): TlsFiles => {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  makeSelfSignedCertificate(files, `${name}.localhost`);
  return files;
};

const fingerprint = (files: TlsFiles): string =>
  new X509Certificate(readFileSync(files.cert)).fingerprint256;

describe(CertificateReloader.name, () => {
  let dir: string;
  let first: TlsFiles;
  let renewed: TlsFiles;
  let served: TlsFiles;
  let logger: { log: jest.Mock; warn: jest.Mock; error: jest.Mock };
  let installed: TlsPair[];
  let sut: CertificateReloader;

  const serve = (files: TlsFiles) => {
    copyFileSync(files.cert, served.cert);
    copyFileSync(files.key, served.key);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-cert-reload-'));
    first = makePair(dir, 'first');
    renewed = makePair(dir, 'renewed');
    served = { cert: join(dir, 'served.crt'), key: join(dir, 'served.key') };
  });

  beforeEach(() => {
    serve(first);
    logger = { log: jest.fn(), warn: jest.fn(), error: jest.fn() };
    installed = [];
    sut = new CertificateReloader(
      { setSecureContext: (pair) => installed.push(pair) },
      served,
      readTlsPair(served),
      logger,
    );
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should leave the server alone while the files are unchanged', () => {
    expect(sut.check()).toBe('unchanged');
    expect(installed).toEqual([]);
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('should give the server a renewed certificate and key, and say until when it is valid', () => {
    serve(renewed);

    expect(sut.check()).toBe('loaded');

    expect(installed).toEqual([readTlsPair(renewed)]);
    const validTo = new X509Certificate(readFileSync(renewed.cert)).validTo;
    expect(logger.log).toHaveBeenCalledWith(
      `serving the renewed TLS certificate, valid until ${validTo}`,
    );
    expect(sut.check()).toBe('unchanged');
  });

  it('should refuse a certificate whose key is not yet renewed, warn once, and take the pair once it is', () => {
    copyFileSync(renewed.cert, served.cert);

    expect(sut.check()).toBe('refused');
    expect(sut.check()).toBe('refused');

    expect(installed).toEqual([]);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0][0]).toMatch(
      /^TLS_CERT_FILE and TLS_KEY_FILE changed but are not a usable pair \(.+\); still serving the certificate loaded before$/,
    );
    copyFileSync(renewed.key, served.key);
    expect(sut.check()).toBe('loaded');
    expect(installed).toEqual([readTlsPair(renewed)]);
  });

  it('should refuse files that are not PEM without naming their contents', () => {
    writeFileSync(served.key, 'not a key, and a secret the log must not show');

    expect(sut.check()).toBe('refused');

    expect(installed).toEqual([]);
    expect(JSON.stringify(logger.warn.mock.calls)).not.toContain('secret the log must not show');
  });

  it('should keep serving while a file is missing, warn once, and carry on when it is back', () => {
    rmSync(served.key);

    expect(sut.check()).toBe('refused');
    expect(sut.check()).toBe('refused');
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0][0]).toMatch(/^could not read TLS_CERT_FILE or TLS_KEY_FILE/);

    serve(renewed);
    expect(sut.check()).toBe('loaded');
  });

  describe('on a real HTTPS server', () => {
    let server: Server;
    let port: number;

    const certificateOfNewConnection = () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(
          { host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false },
          () => {
            resolve(socket.getPeerCertificate().fingerprint256);
            socket.end();
          },
        );
        socket.on('error', reject);
      });

    beforeEach(async () => {
      server = createServer(readTlsPair(served), (_req, res) => res.end('ok'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
      sut = new CertificateReloader(server, served, readTlsPair(served), logger);
    });

    afterEach(() => new Promise((resolve) => server.close(resolve)));

    it('should serve the renewed certificate on new connections without a restart', async () => {
      expect(await certificateOfNewConnection()).toBe(fingerprint(first));

      serve(renewed);
      sut.check();

      expect(await certificateOfNewConnection()).toBe(fingerprint(renewed));
    });

    it('should check again on its own, every interval', async () => {
      const stop = sut.watch(50);
      try {
        serve(renewed);
        let seen = await certificateOfNewConnection();
        for (let i = 0; i < 100 && seen !== fingerprint(renewed); i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          seen = await certificateOfNewConnection();
        }
        expect(seen).toBe(fingerprint(renewed));
      } finally {
        stop();
      }
    });
  });
});
