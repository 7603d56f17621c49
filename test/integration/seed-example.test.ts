import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/auth/secrets.js';
import { projectPath } from '../../src/project-root.js';
import { applySeed, readSeedFile } from '../../src/services/provisioning.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** The seed shipped with docker-compose.yml (and shown in the README) is valid and idempotent. */
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

describe('seed.example.yaml', () => {
  it('applies with its secrets from the environment, and applying it again changes nothing', async () => {
    const env = {
      HUB_ADMIN_PASSWORD: 'an example admin password',
      CLINIC_SENTINEL_PASSWORD: 'an example clinic password',
      CLINIC_SENTINEL_KEY: generateApiKey().key,
    };
    const seed = readSeedFile(projectPath('seed.example.yaml'));
    const first = await applySeed(database.db, seed, { scryptCost: 1024, env });
    expect(first.created).toBeGreaterThan(5);
    const again = await applySeed(database.db, seed, { scryptCost: 1024, env });
    expect(again).toMatchObject({ created: 0, updated: 0 });
    const binding = await database.db.selectFrom('organisation_bindings as b').innerJoin('organisations as o', 'o.id', 'b.organisation_id').select(['o.name', 'b.profile_id']).execute();
    expect(binding).toEqual(expect.arrayContaining([{ name: 'Clinic Nord', profile_id: 'L1' }]));
  });
});
