import { execFileSync } from 'node:child_process';

/**
 * Writes a self-signed certificate for `commonName` and its private key (RSA 2048, valid a day) to
 * the files named, with the openssl CLI, as an operator would.
 */
export function makeSelfSignedCertificate(
  files: { cert: string; key: string },
  commonName = 'localhost',
): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      files.key,
      '-out',
      files.cert,
    ].concat(['-days', '1', '-subj', `/CN=${commonName}`]),
    { stdio: 'ignore' },
  );
}
