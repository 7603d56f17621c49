import { randomBytes } from 'node:crypto';
import type { Db } from './database.js';

/**
 * The key that signs `next` cursors. Kept in the database (when not given in
 * the configuration) so that every replica of the server signs and checks
 * cursors with the same key, and cursors survive restarts.
 */
export async function cursorSecret(db: Db): Promise<string> {
  await db
    .insertInto('server_settings')
    .values({ key: 'cursor_secret', value: randomBytes(32).toString('base64url') })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db.selectFrom('server_settings').select('value').where('key', '=', 'cursor_secret').executeTakeFirstOrThrow();
  return row.value;
}
