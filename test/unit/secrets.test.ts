import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  generateApiKey,
  generatePassword,
  hashSecret,
  parseApiKey,
  verifySecret,
  VerifiedSecretCache,
} from '../../src/auth/secrets.js';

/**
 * Secrets are stored only as salted scrypt hashes (digest §2; TAXII Appendix B
 * on credentials). Cost 1024 keeps the tests fast; the format is the same.
 */
const COST = 1024;
const SECRET = 'correct horse battery staple';
const HASH_FORMAT = /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/;

describe('hashSecret / verifySecret', () => {
  it('a hash is in the self-describing form scrypt$N$r$p$salt$hash', async () => {
    expect(await hashSecret(SECRET, COST)).toMatch(HASH_FORMAT);
  });

  it('the right secret verifies', async () => {
    expect(await verifySecret(SECRET, await hashSecret(SECRET, COST))).toBe(true);
  });

  it('a wrong secret does not: another word, one character more or less, another case, empty', async () => {
    const hash = await hashSecret(SECRET, COST);
    for (const wrong of ['wrong', `${SECRET}!`, SECRET.slice(0, -1), SECRET.toUpperCase(), '', ` ${SECRET}`]) {
      expect(await verifySecret(wrong, hash), wrong).toBe(false);
    }
  });

  it('the hash never contains the secret, in plain text or base64/base64url/hex', async () => {
    const hash = await hashSecret(SECRET, COST);
    for (const form of [SECRET, Buffer.from(SECRET).toString('base64'), Buffer.from(SECRET).toString('base64url'), Buffer.from(SECRET).toString('hex')]) {
      expect(hash).not.toContain(form);
    }
    // A short secret could appear by chance in 65 random characters; a word of 8+ characters cannot.
    const key = generateApiKey();
    const keyHash = await hashSecret(key.secret, COST);
    expect(keyHash).not.toContain(key.secret);
    expect(keyHash).not.toContain(key.secret.slice(0, 16));
  });

  it('two hashes of one secret differ (random salt), and both verify', async () => {
    const a = await hashSecret(SECRET, COST);
    const b = await hashSecret(SECRET, COST);
    expect(a).not.toBe(b);
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]);
    expect(await verifySecret(SECRET, a)).toBe(true);
    expect(await verifySecret(SECRET, b)).toBe(true);
  });

  it('the cost is read from the stored hash, so hashes made with another cost still verify', async () => {
    const cheap = await hashSecret(SECRET, 1024);
    const dearer = await hashSecret(SECRET, 2048);
    expect(dearer.startsWith('scrypt$2048$8$1$')).toBe(true);
    expect(await verifySecret(SECRET, cheap)).toBe(true);
    expect(await verifySecret(SECRET, dearer)).toBe(true);
  });

  it('a hash with its salt or digest altered does not verify', async () => {
    const hash = await hashSecret(SECRET, COST);
    const parts = hash.split('$');
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    expect(await verifySecret(SECRET, [...parts.slice(0, 4), flip(parts[4]!), parts[5]].join('$'))).toBe(false);
    expect(await verifySecret(SECRET, [...parts.slice(0, 5), flip(parts[5]!)].join('$'))).toBe(false);
    expect(await verifySecret(SECRET, [...parts.slice(0, 5), parts[5]!.slice(0, -2)].join('$'))).toBe(false);
  });

  it('a stored value that is not an scrypt hash never verifies (e.g. a plain-text password in the column)', async () => {
    for (const stored of [SECRET, '', 'scrypt', 'scrypt$1024$8$1$salt', 'bcrypt$1024$8$1$abc$def', `${await hashSecret(SECRET, COST)}$extra`]) {
      expect(await verifySecret(SECRET, stored), stored).toBe(false);
    }
  });

  it('handles non-ASCII secrets', async () => {
    const secret = 'pässwörd-密码-🔑';
    const hash = await hashSecret(secret, COST);
    expect(await verifySecret(secret, hash)).toBe(true);
    expect(await verifySecret(secret.normalize('NFD'), hash)).toBe(false);
  });
});

describe('API keys: thk_<24 hex key id>_<43 base64url secret>', () => {
  it('generateApiKey and parseApiKey round-trip', () => {
    for (let i = 0; i < 200; i++) {
      const generated = generateApiKey();
      expect(generated.key).toBe(`thk_${generated.keyId}_${generated.secret}`);
      expect(generated.keyId).toMatch(/^[0-9a-f]{24}$/);
      expect(generated.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(parseApiKey(generated.key)).toEqual({ keyId: generated.keyId, secret: generated.secret });
    }
  });

  it('generated keys are distinct', () => {
    const keys = new Set(Array.from({ length: 500 }, () => generateApiKey().key));
    expect(keys.size).toBe(500);
  });

  it('a secret may itself contain "_" and "-"', () => {
    const key = `thk_0123456789abcdef01234567_${'_-'.repeat(21)}A`;
    expect(parseApiKey(key)).toEqual({ keyId: '0123456789abcdef01234567', secret: `${'_-'.repeat(21)}A` });
  });

  const valid = generateApiKey();
  it.each([
    ['empty', ''],
    ['the secret alone', valid.secret],
    ['another prefix', valid.key.replace('thk_', 'tk_')],
    ['upper-case prefix', valid.key.replace('thk_', 'THK_')],
    ['key id too short', `thk_${valid.keyId.slice(1)}_${valid.secret}`],
    ['key id too long', `thk_${valid.keyId}0_${valid.secret}`],
    ['upper-case hex in the key id', `thk_${'ABCDEF'.repeat(4)}_${valid.secret}`],
    ['non-hex key id', `thk_${'g'.repeat(24)}_${valid.secret}`],
    ['secret too short', `thk_${valid.keyId}_${valid.secret.slice(1)}`],
    ['secret too long', `thk_${valid.keyId}_${valid.secret}A`],
    ['standard base64 characters in the secret', `thk_${valid.keyId}_${'+/'.repeat(21)}A`],
    ['padding', `thk_${valid.keyId}_${valid.secret.slice(1)}=`],
    ['leading whitespace', ` ${valid.key}`],
    ['trailing whitespace', `${valid.key} `],
    ['trailing newline', `${valid.key}\n`],
    ['a "Bearer " prefix left on', `Bearer ${valid.key}`],
    ['a missing separator', `thk_${valid.keyId}${valid.secret}`],
  ])('parseApiKey rejects a malformed key: %s', (_what, key) => {
    expect(parseApiKey(key)).toBeUndefined();
  });

  it('generatePassword gives distinct 24-character base64url passwords', () => {
    const passwords = new Set(Array.from({ length: 200 }, generatePassword));
    expect(passwords.size).toBe(200);
    for (const p of passwords) expect(p).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });
});

describe('VerifiedSecretCache: keyed by the stored hash, so a changed hash no longer matches', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('remembers a secret verified against a hash', () => {
    const cache = new VerifiedSecretCache();
    expect(cache.has(SECRET, 'hash-1')).toBe(false);
    cache.add(SECRET, 'hash-1');
    expect(cache.has(SECRET, 'hash-1')).toBe(true);
  });

  it('a changed stored hash (new password, rotated key) no longer matches', () => {
    const cache = new VerifiedSecretCache();
    cache.add(SECRET, 'hash-1');
    expect(cache.has(SECRET, 'hash-2')).toBe(false);
  });

  it('another secret against the same hash does not match', () => {
    const cache = new VerifiedSecretCache();
    cache.add(SECRET, 'hash-1');
    expect(cache.has('wrong', 'hash-1')).toBe(false);
    expect(cache.has(`${SECRET} `, 'hash-1')).toBe(false);
  });

  it('the boundary between hash and secret cannot be shifted ("ab"+"c" is not "a"+"bc")', () => {
    const cache = new VerifiedSecretCache();
    cache.add('c', 'ab');
    expect(cache.has('bc', 'a')).toBe(false);
    expect(cache.has('c', 'ab')).toBe(true);
  });

  it('works with real hashes: after a password change the cached old password is refused', async () => {
    const cache = new VerifiedSecretCache();
    const oldHash = await hashSecret('old password', COST);
    expect(await verifySecret('old password', oldHash)).toBe(true);
    cache.add('old password', oldHash);
    const newHash = await hashSecret('new password', COST);
    expect(cache.has('old password', newHash)).toBe(false);
    expect(cache.has('old password', oldHash)).toBe(true);
  });

  it('entries expire after the TTL', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const cache = new VerifiedSecretCache(100, 60_000);
    cache.add(SECRET, 'hash-1');
    vi.setSystemTime(new Date('2026-01-01T00:00:59Z'));
    expect(cache.has(SECRET, 'hash-1')).toBe(true);
    vi.setSystemTime(new Date('2026-01-01T00:01:00.001Z'));
    expect(cache.has(SECRET, 'hash-1')).toBe(false);
  });

  it('holds at most maxEntries, dropping the oldest', () => {
    const cache = new VerifiedSecretCache(2);
    cache.add('a', 'h');
    cache.add('b', 'h');
    cache.add('c', 'h');
    expect(cache.has('a', 'h')).toBe(false);
    expect(cache.has('b', 'h')).toBe(true);
    expect(cache.has('c', 'h')).toBe(true);
  });

  it('keeps no secret in memory: its entries are digests', () => {
    const cache = new VerifiedSecretCache();
    cache.add(SECRET, 'hash-1');
    const inside = JSON.stringify([...(cache as unknown as { entries: Map<string, number> }).entries.keys()]);
    expect(inside).not.toContain(SECRET);
    expect(inside).not.toContain('hash-1');
  });
});
