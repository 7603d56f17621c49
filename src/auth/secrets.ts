import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Passwords and API-key secrets are stored only as salted scrypt hashes, in the
 * self-describing form scrypt$N$r$p$salt$hash (base64url), so that the cost can
 * be raised later without invalidating existing secrets.
 */
const KEY_LENGTH = 32;

function scrypt(secret: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(secret, salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export async function hashSecret(secret: string, cost: number): Promise<string> {
  const salt = randomBytes(16);
  const r = 8, p = 1;
  const key = await scrypt(secret, salt, { N: cost, r, p, maxmem: 256 * cost * r + 1024 * 1024 });
  return `scrypt$${cost}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64url');
  const N = Number(n), R = Number(r), P = Number(p);
  const key = await scrypt(secret, Buffer.from(salt, 'base64url'), { N, r: R, p: P, maxmem: 256 * N * R + 1024 * 1024 });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash with the same cost as real ones, checked when the account does not exist (equal timing). */
let decoy: Promise<string> | undefined;
export function decoyHash(cost: number): Promise<string> {
  decoy ??= hashSecret(randomBytes(16).toString('hex'), cost);
  return decoy;
}

export interface ApiKeyParts {
  keyId: string;
  secret: string;
}

const API_KEY = /^thk_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$/;

/** A new API key: a public key id (to find the hash) and a secret, shown to its owner once. */
export function generateApiKey(): ApiKeyParts & { key: string } {
  const keyId = randomBytes(12).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { keyId, secret, key: `thk_${keyId}_${secret}` };
}

export function parseApiKey(key: string): ApiKeyParts | undefined {
  const m = API_KEY.exec(key);
  return m ? { keyId: m[1]!, secret: m[2]! } : undefined;
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Remembers credentials that were verified against a given stored hash, so
 * that a client polling every few seconds does not pay for scrypt on every
 * request. The stored hash is part of the key: a changed password or rotated
 * key no longer matches, and revocation is checked in the database on every
 * request regardless. Only SHA-256 digests are kept, never the secrets.
 */
export class VerifiedSecretCache {
  private readonly entries = new Map<string, number>();

  constructor(private readonly maxEntries = 10_000, private readonly ttlMs = 10 * 60_000) {}

  private key(secret: string, storedHash: string): string {
    return createHash('sha256').update(storedHash).update('\0').update(secret).digest('base64');
  }

  has(secret: string, storedHash: string): boolean {
    const k = this.key(secret, storedHash);
    const at = this.entries.get(k);
    if (at === undefined) return false;
    if (Date.now() - at > this.ttlMs) {
      this.entries.delete(k);
      return false;
    }
    return true;
  }

  add(secret: string, storedHash: string): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(this.key(secret, storedHash), Date.now());
  }
}
