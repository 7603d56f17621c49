import type { Seed } from '../../src/services/provisioning.js';

/**
 * The standard provisioning of the HTTP tests: one API root with three
 * collections and organisations with every combination of rights.
 */
export const COLLECTION = '91a7b528-80eb-42ed-a74d-c6fbd5a26116';
export const READ_ONLY_COLLECTION = '52892447-4d7e-4f70-b94d-d7f22742ff63';
export const HIDDEN_COLLECTION = '64993447-4d7e-4f70-b94d-d7f22742ff63';
export const PASSWORD = 'correct horse battery staple';
export const WRITER_KEY = 'thk_0123456789abcdef01234567_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

export function standardSeed(extra: Partial<Seed> = {}): Seed {
  return {
    api_roots: [
      { id: 'api1', title: 'Sharing hub', description: 'Test root', max_content_length: 1024 * 1024, default: true },
      { id: 'api2', title: 'Second root', max_content_length: 10 * 1024 },
    ],
    collections: [
      { id: COLLECTION, api_root: 'api1', title: 'Indicators', alias: 'indicators', description: 'Main collection' },
      { id: READ_ONLY_COLLECTION, api_root: 'api1', title: 'Read only' },
      { id: HIDDEN_COLLECTION, api_root: 'api1', title: 'Hidden' },
    ],
    organisations: [{ name: 'Hub' }, { name: 'Member' }, { name: 'Outsider' }, { name: 'Operators' }],
    accounts: [
      { username: 'writer', organisation: 'Hub', password: PASSWORD, api_keys: [{ label: 'ci', key: WRITER_KEY }] },
      { username: 'reader', organisation: 'Member', password: PASSWORD },
      { username: 'outsider', organisation: 'Outsider', password: PASSWORD },
      { username: 'admin', organisation: 'Operators', password: PASSWORD, admin: true },
    ],
    permissions: [
      { organisation: 'Hub', collection: COLLECTION, read: true, write: true },
      { organisation: 'Hub', collection: READ_ONLY_COLLECTION, read: true, write: false },
      { organisation: 'Member', collection: COLLECTION, read: true, write: false },
      { organisation: 'Member', collection: READ_ONLY_COLLECTION, read: false, write: false },
    ],
    // The widest default view; the maturity tests bind narrower ones.
    bindings: [
      { organisation: 'Hub', profile: 'L4' },
      { organisation: 'Member', profile: 'L4' },
      { organisation: 'Outsider', profile: 'L4' },
    ],
    ...extra,
  };
}
