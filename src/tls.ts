import { readFileSync } from 'node:fs';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import { ConfigError, type TlsFiles } from './config.js';

/**
 * The options of the HTTPS server when the server terminates TLS itself
 * (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE): TLS 1.2 at least, HTTP/1.1
 * only (ALPN). Node has no TLS 1.3 early data (0-RTT), so no request is ever
 * replayable. Read once at start; a renewed certificate needs a restart.
 */
export function httpsOptions(files: TlsFiles): TlsOptions & SecureContextOptions {
  const read = (variable: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(`${variable}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const cert = read('TLS_CERT_FILE', files.certFile);
  // The chain a client needs to reach its trusted root: sent after the server's certificate.
  const chain = files.caFile ? Buffer.concat([cert, Buffer.from('\n'), read('TLS_CA_FILE', files.caFile)]) : cert;
  return {
    cert: chain,
    key: read('TLS_KEY_FILE', files.keyFile),
    minVersion: 'TLSv1.2',
    ALPNProtocols: ['http/1.1'],
  };
}
