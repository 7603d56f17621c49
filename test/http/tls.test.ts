import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { httpsOptions } from '../../src/tls.js';
import { PASSWORD, standardSeed } from '../support/fixtures.js';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';

/**
 * TLS terminated by the server (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE:
 * TLS 1.2 at least, HTTP/1.1), and trusted proxies (TRUST_PROXY: whose
 * X-Forwarded-For decides request.ip). Certificates are made at test time
 * with the openssl command; node:crypto cannot issue X.509 certificates.
 */
function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'taxii-tls-'));
const file = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A self-signed server certificate, and a chain root → intermediate → leaf. */
function makeCertificates(): void {
  openssl('req', '-x509', ...EC, '-keyout', 'self.key', '-out', 'self.pem', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  openssl('req', '-x509', ...EC, '-keyout', 'root.key', '-out', 'root.pem', '-days', '2', '-subj', '/CN=taxii test root',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  writeFileSync(file('ca.ext'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n');
  openssl('req', ...EC, '-keyout', 'intermediate.key', '-out', 'intermediate.csr', '-subj', '/CN=taxii test intermediate');
  openssl('x509', '-req', '-in', 'intermediate.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '2',
    '-extfile', 'ca.ext', '-out', 'intermediate.pem');
  writeFileSync(file('leaf.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  openssl('req', ...EC, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost');
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'intermediate.pem', '-CAkey', 'intermediate.key', '-CAcreateserial', '-days', '2',
    '-extfile', 'leaf.ext', '-out', 'leaf.pem');
}

interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  protocol: string | null;
  alpn: string | false | null;
}

function httpsGet(url: string, path: string, options: { ca?: Buffer; rejectUnauthorized?: boolean; authorization?: string }): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, url),
      {
        method: 'GET',
        headers: { Accept: TAXII, ...(options.authorization ? { Authorization: options.authorization } : {}) },
        ...(options.ca ? { ca: options.ca } : {}),
        rejectUnauthorized: options.rejectUnauthorized ?? true,
        agent: false,
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8'), protocol: socket.getProtocol(), alpn: socket.alpnProtocol }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A bare TLS handshake; resolves with the negotiated protocol or rejects with the handshake error. */
function handshake(port: number, options: ConnectionOptions): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      const protocol = socket.getProtocol();
      socket.end();
      resolve(protocol);
    });
    socket.on('error', reject);
  });
}

const TLS_1_1_ONLY: ConnectionOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' };

const available = hasOpenssl();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!available)('TLS terminated by the server', () => {
  let selfSigned: TestApp;
  let chained: TestApp;

  beforeAll(async () => {
    makeCertificates();
    selfSigned = await createTestApp(standardSeed(), {}, { TLS_CERT_FILE: file('self.pem'), TLS_KEY_FILE: file('self.key') });
    chained = await createTestApp(standardSeed(), {}, { TLS_CERT_FILE: file('leaf.pem'), TLS_KEY_FILE: file('leaf.key'), TLS_CA_FILE: file('intermediate.pem') });
  });
  afterAll(async () => {
    await selfSigned?.close();
    await chained?.close();
  });

  it('serves TAXII over HTTPS with a self-signed certificate (HTTP/1.1, TLS 1.2 or 1.3)', async () => {
    expect(selfSigned.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const verified = await httpsGet(selfSigned.url, '/taxii2/', { ca: readFileSync(file('self.pem')), authorization: basic('writer', PASSWORD) });
    expect(verified.status).toBe(200);
    expect(verified.headers['content-type']).toBe(TAXII);
    expect(JSON.parse(verified.text).api_roots).toEqual(['/api1/']);
    expect(['TLSv1.2', 'TLSv1.3']).toContain(verified.protocol);
    expect(verified.alpn).not.toBe('h2');
    const unverified = await httpsGet(selfSigned.url, '/healthz', { rejectUnauthorized: false });
    expect(unverified.status).toBe(200);
    // Without the certificate, a client refuses it.
    await expect(httpsGet(selfSigned.url, '/healthz', {})).rejects.toThrow(/self[- ]signed/i);
  });

  it('sends the chain of TLS_CA_FILE: a client trusting only the root verifies the server', async () => {
    const res = await httpsGet(chained.url, '/taxii2/', { ca: readFileSync(file('root.pem')), authorization: basic('writer', PASSWORD) });
    expect(res.status).toBe(200);
  });

  it('accepts TLS 1.2 and refuses a client limited to TLS 1.1', async () => {
    const port = Number(new URL(selfSigned.url).port);
    expect(await handshake(port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
    await expect(handshake(port, TLS_1_1_ONLY)).rejects.toMatchObject({ code: expect.stringMatching(/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/) });

    // Control: the same client does speak TLS 1.1 to a server that allows it, so the refusal above is the server's.
    const legacy = createServer({ ...httpsOptions({ certFile: file('self.pem'), keyFile: file('self.key'), caFile: undefined }), minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, (s) => s.end());
    await new Promise<void>((resolve) => legacy.listen(0, '127.0.0.1', resolve));
    try {
      const address = legacy.address() as { port: number };
      expect(await handshake(address.port, TLS_1_1_ONLY)).toBe('TLSv1.1');
    } finally {
      legacy.close();
    }
  });

  it('refuses to start with an unreadable certificate, naming the variable', () => {
    const config = loadConfig({ TLS_CERT_FILE: file('missing.pem'), TLS_KEY_FILE: file('self.key') });
    expect(() => httpsOptions(config.tls!)).toThrow(ConfigError);
    expect(() => httpsOptions(config.tls!)).toThrow(/TLS_CERT_FILE: cannot read/);
  });
});

describe('trusted proxies (TRUST_PROXY)', () => {
  const apps: TestApp[] = [];
  const limited = (trustProxy: string | undefined) =>
    createTestApp(standardSeed(), { authFailureLimitPerWindow: 3, rateLimitSyncMs: 50 }, { RATE_LIMIT_ENABLED: 'true', ...(trustProxy ? { TRUST_PROXY: trustProxy } : {}) }).then((t) => {
      apps.push(t);
      return t;
    });
  afterAll(async () => {
    for (const t of apps) await t.close();
  });

  async function failThrice(t: TestApp, forwardedFor: string) {
    for (let i = 1; i <= 3; i++) {
      const res = await t.http.get('/taxii2/').set('Authorization', basic(`nobody-${i}`, 'guess')).set('X-Forwarded-For', forwardedFor);
      expect(res.status).toBe(401);
    }
  }
  const asWriter = (t: TestApp, forwardedFor: string) => t.http.get('/taxii2/').set('Authorization', basic('writer', PASSWORD)).set('X-Forwarded-For', forwardedFor);

  it('with TRUST_PROXY naming the proxy, X-Forwarded-For decides the address the limits count', async () => {
    const t = await limited('127.0.0.1');
    await failThrice(t, '203.0.113.7');
    expect((await asWriter(t, '203.0.113.7')).status).toBe(429);
    expect((await asWriter(t, '203.0.113.8')).status).toBe(200);
    // The nearest untrusted hop counts: a client cannot hide behind a forged list.
    expect((await asWriter(t, '198.51.100.1, 203.0.113.7')).status).toBe(429);
  });

  it('without TRUST_PROXY (or from a peer it does not name), X-Forwarded-For is ignored', async () => {
    for (const trust of [undefined, '10.9.9.9']) {
      const t = await limited(trust);
      await failThrice(t, '203.0.113.7');
      // Every request came from 127.0.0.1, whatever the header said: that address is blocked.
      expect((await asWriter(t, '203.0.113.8')).status).toBe(429);
      expect((await t.http.get('/taxii2/').set('Authorization', basic('writer', PASSWORD))).status).toBe(429);
    }
  });
});
