import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { generateApiKey, generatePassword } from '../auth/secrets.js';
import type { Db } from '../db/database.js';
import { applySeed } from './provisioning.js';

/**
 * The out-of-the-box experience of `npm start`: when the database holds no API
 * root yet, create a demo API root, a collection and an account, and tell the
 * operator how to use them. The credentials are generated, printed, and kept
 * beside the embedded database so that later starts can print them again.
 */
export interface DemoCredentials {
  apiRoot: string;
  collectionId: string;
  username: string;
  password: string;
  apiKey: string;
}

const CREDENTIALS_FILE = 'demo-credentials.json';

export async function ensureDemo(db: Db, options: { dataDir: string; scryptCost: number }): Promise<DemoCredentials | undefined> {
  const file = options.dataDir.startsWith('memory://') ? undefined : join(options.dataDir, CREDENTIALS_FILE);
  const anyRoot = await db.selectFrom('api_roots').select('id').limit(1).executeTakeFirst();
  if (anyRoot) {
    return file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials) : undefined;
  }
  const key = generateApiKey();
  const credentials: DemoCredentials = {
    apiRoot: 'demo',
    collectionId: uuidv4(),
    username: 'demo',
    password: generatePassword(),
    apiKey: key.key,
  };
  await applySeed(
    db,
    {
      api_roots: [{ id: credentials.apiRoot, title: 'Demo API root', description: 'Created by the first start of the server', default: true }],
      collections: [{ id: credentials.collectionId, api_root: credentials.apiRoot, title: 'Demo collection', alias: 'demo', description: 'Post STIX 2.1 objects here' }],
      organisations: [{ name: 'Demo organisation' }],
      accounts: [{ username: credentials.username, organisation: 'Demo organisation', password: credentials.password, api_keys: [{ label: 'demo', key: key.key }] }],
      permissions: [{ organisation: 'Demo organisation', collection: credentials.collectionId, read: true, write: true }],
      // L4 Adaptive: the widest default view (everything up to TLP:AMBER+STRICT).
      bindings: [{ organisation: 'Demo organisation', profile: 'L4' }],
    },
    { scryptCost: options.scryptCost },
  );
  if (file) writeFileSync(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  return credentials;
}

export function describeDemo(c: DemoCredentials, baseUrl: string): string {
  return [
    '',
    'Demo provisioning (credentials also in the data directory, demo-credentials.json):',
    `  API root:    ${baseUrl}/${c.apiRoot}/`,
    `  collection:  ${baseUrl}/${c.apiRoot}/collections/${c.collectionId}/   (alias: demo)`,
    `  user:        ${c.username}`,
    `  password:    ${c.password}`,
    `  API key:     ${c.apiKey}   (Authorization: Bearer <key>)`,
    '',
    `  curl -u ${c.username}:${c.password} ${baseUrl}/taxii2/`,
    '',
  ].join('\n');
}
