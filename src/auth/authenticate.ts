import type { Db } from '../db/database.js';
import { decoyHash, parseApiKey, VerifiedSecretCache, verifySecret } from './secrets.js';

/** Who is calling: an account of an organisation (TAXII leaves access control to us, §1.6.9). */
export interface Principal {
  accountId: string;
  organisationId: string;
  username: string;
  isAdmin: boolean;
}

interface AccountRow {
  id: string;
  organisation_id: string;
  username: string;
  is_admin: boolean;
  disabled: boolean;
}

/**
 * Lets a caller veto a secret that scrypt has just verified (the cache of
 * verified secrets is not consulted through it): the failed-authentication
 * budget refuses a right guess once it is spent.
 */
export interface VerificationGuard {
  verified(): Promise<void>;
}

/** Who the credentials of an Authorization header claim to be: "user:<name>" (Basic) or "key:<key id>" (API key). */
export function presentedIdentity(header: string): string | undefined {
  const space = header.indexOf(' ');
  if (space <= 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // Real user names have at most 100 characters; longer ones share a bucket by their start.
    // The name becomes a database key: U+0000 (which no real name holds) cannot be stored, so it is replaced.
    return colon < 0 ? undefined : `user:${decoded.slice(0, Math.min(colon, 200)).replaceAll('\u0000', '\uFFFD')}`;
  }
  if (scheme === 'bearer' || scheme === 'token') {
    const parts = parseApiKey(value);
    return parts ? `key:${parts.keyId}` : undefined;
  }
  return undefined;
}

/**
 * Checks the Authorization header: HTTP Basic for accounts with a password,
 * and API keys as `Bearer <key>` or `Token <key>` (interop rule 7). Returns
 * undefined when the credentials are missing or wrong; the caller answers 401.
 */
export class Authenticator {
  private readonly verified = new VerifiedSecretCache();

  constructor(private readonly db: Db, private readonly scryptCost: number) {}

  async authenticate(header: string | undefined, guard?: VerificationGuard): Promise<Principal | undefined> {
    if (!header) return undefined;
    const space = header.indexOf(' ');
    if (space <= 0) return undefined;
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'basic') return this.basic(value, guard);
    if (scheme === 'bearer' || scheme === 'token') return this.apiKey(value, guard);
    return undefined;
  }

  private async basic(encoded: string, guard: VerificationGuard | undefined): Promise<Principal | undefined> {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const username = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    // No username holds U+0000, which the database cannot even compare: such a name is unknown (not a 500).
    const row = username.includes('\u0000')
      ? undefined
      : await this.db
          .selectFrom('accounts')
          .select(['id', 'organisation_id', 'username', 'is_admin', 'disabled', 'password_hash'])
          .where('username', '=', username)
          .executeTakeFirst();
    const ok = await this.check(password, row?.password_hash ?? undefined, guard);
    return ok && row && !row.disabled ? toPrincipal(row) : undefined;
  }

  private async apiKey(key: string, guard: VerificationGuard | undefined): Promise<Principal | undefined> {
    const parts = parseApiKey(key);
    const row = parts
      ? await this.db
          .selectFrom('api_keys as k')
          .innerJoin('accounts as a', 'a.id', 'k.account_id')
          .select(['a.id', 'a.organisation_id', 'a.username', 'a.is_admin', 'a.disabled', 'k.secret_hash', 'k.revoked_at'])
          .where('k.key_id', '=', parts.keyId)
          .executeTakeFirst()
      : undefined;
    const ok = await this.check(parts?.secret ?? key, row?.secret_hash, guard);
    return ok && row && !row.disabled && row.revoked_at === null ? toPrincipal(row) : undefined;
  }

  /** Verifies a secret against its stored hash; unknown accounts cost the same as known ones. */
  private async check(secret: string, storedHash: string | undefined, guard?: VerificationGuard): Promise<boolean> {
    if (storedHash === undefined) {
      await verifySecret(secret, await decoyHash(this.scryptCost));
      return false;
    }
    if (this.verified.has(secret, storedHash)) return true;
    const ok = await verifySecret(secret, storedHash);
    if (ok) {
      // A vetoed secret is not remembered: it must not pass later from the cache.
      await guard?.verified();
      this.verified.add(secret, storedHash);
    }
    return ok;
  }
}

function toPrincipal(row: AccountRow): Principal {
  return { accountId: row.id, organisationId: row.organisation_id, username: row.username, isAdmin: row.is_admin };
}
