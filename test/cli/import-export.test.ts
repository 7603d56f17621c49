import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../src/cli/commands/import.js';
import { sharedDataPath } from '../support/shared-data.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { cliRunner, explain, type CliResult } from './cli-harness.js';

/**
 * `taxii-hub import` and `export`, in-process on a fresh database: the ATT&CK
 * Enterprise bundle (24,771 objects) in and back out unchanged, JSON Lines,
 * folders, broken JSON and invalid objects reported with their positions
 * while everything valid is stored, and views exported as their readers see
 * them.
 */
const ENTERPRISE = sharedDataPath('attack', 'enterprise-attack-18.1.stix21.from-mitre-cti.json.gz');
const SEKOIA = sharedDataPath('iocs', 'sekoia', '2021-11-10_APT31_STIX2.jsonl');

type Stix = Record<string, unknown> & { id: string; type: string };

let database: TestDatabase;
let run: ReturnType<typeof cliRunner>;
let dir: string;

const code = (result: CliResult, expected: number) => {
  expect(result.code, explain(result)).toBe(expected);
  return result;
};

function readBundle(path: string): { type: string; id: string; objects?: Stix[] } {
  const bytes = readFileSync(path);
  return JSON.parse((bytes[0] === 0x1f ? gunzipSync(bytes) : bytes).toString('utf8'));
}

const byId = (objects: Stix[]) => new Map(objects.map((o) => [o.id, o]));

function identity(n: number, extra: Record<string, unknown> = {}): Stix {
  return {
    type: 'identity',
    spec_version: '2.1',
    id: `identity--${String(n).padStart(8, '0')}-1111-4111-8111-111111111111`,
    created: '2024-02-01T00:00:00.000Z',
    modified: '2024-02-01T00:00:00.000Z',
    name: `Identity ${n}`,
    identity_class: 'organization',
    ...extra,
  };
}

const bundleOf = (objects: unknown[]) => ({ type: 'bundle', id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d', objects });

async function newCollection(alias: string): Promise<string> {
  const result = code(await run(['collections', 'create', '--api-root', 'hub', '--title', alias, '--alias', alias, '--json']), 0);
  return result.json<{ id: string }>().id;
}

beforeAll(async () => {
  database = await createTestDatabase();
  run = cliRunner(database);
  dir = mkdtempSync(join(tmpdir(), 'taxii-cli-import-'));
  code(await run(['api-roots', 'create', 'hub', '--title', 'Hub']), 0);
});

afterAll(async () => {
  await database?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('taxii-hub import and export', () => {
  it('imports ATT&CK Enterprise (24,771 objects, gzipped) with progress, and exports it back unchanged', { timeout: 120_000 }, async () => {
    const collection = await newCollection('attack');
    const imported = code(await run(['import', 'attack', ENTERPRISE, '--json']), 0);
    const report = imported.json<ImportReport>();
    expect(report.totals).toEqual({ files: 1, read: 24771, stored: 24771, already_present: 0, failed: 0, file_errors: 0 });
    expect(report.failures).toEqual([]);
    expect(report.files).toEqual([{ file: ENTERPRISE, kind: 'bundle', read: 24771, stored: 24771, already_present: 0, failed: 0, error: null }]);
    expect(report.collection).toBe(collection);
    // Progress on stderr: periodic lines (stderr is not a terminal here), then the file's summary.
    const progress = imported.stderr.trim().split('\n');
    expect(progress.filter((line) => /^import: \d+% file 1\/1 enterprise-attack-18\.1\.stix21\.from-mitre-cti\.json\.gz: [\d,]+ read, [\d,]+ stored/.test(line)).length).toBeGreaterThanOrEqual(20);
    expect(progress.at(-1)).toBe(`import: ${ENTERPRISE}: 24,771 read, 24,771 stored, 0 already present, 0 failed`);

    const out = join(dir, 'attack.json.gz');
    const exported = code(await run(['export', 'attack', out, '--json']), 0);
    expect(exported.json()).toEqual({ collection, file: out, objects: 24771, versions: 'latest', gzip: true, view: null });
    const original = readBundle(ENTERPRISE).objects!;
    const back = readBundle(out);
    expect(back.type).toBe('bundle');
    expect(back.id).toMatch(/^bundle--[0-9a-f-]{36}$/);
    expect(back.objects).toHaveLength(24771);
    const backById = byId(back.objects!);
    expect([...backById.keys()].sort()).toEqual(original.map((o) => o.id).sort());
    for (const object of original) expect(backById.get(object.id)).toEqual(object);
  });

  it('imports a JSON Lines file, then the same objects again as already present', async () => {
    await newCollection('apt31');
    const first = code(await run(['import', 'apt31', SEKOIA]), 0);
    expect(first.stdout).toMatch(/^imported into [0-9a-f-]{36} \(apt31\) from 1 file\nobjects read:\s+370\nstored:\s+370\nalready present:\s+0\nfailed:\s+0\n$/);
    const again = code(await run(['import', 'apt31', SEKOIA, '--json', '--batch-size', '100', '--no-progress']), 0);
    expect(again.json<ImportReport>().totals).toMatchObject({ read: 370, stored: 0, already_present: 370, failed: 0 });
    expect(again.stderr).toBe('');

    const out = join(dir, 'apt31.json');
    code(await run(['export', 'apt31', out]), 0);
    const lines = readFileSync(SEKOIA, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Stix);
    const back = byId(readBundle(out).objects!);
    expect(back.size).toBe(370);
    for (const object of lines) expect(back.get(object.id)).toEqual(object);
  });

  it('imports a folder: bundles, gzipped bundles, JSON Lines and bare objects, recursively, skipping other files', async () => {
    await newCollection('folder');
    const folder = join(dir, 'folder');
    mkdirSync(join(folder, 'nested', 'deeper'), { recursive: true });
    writeFileSync(join(folder, 'a.json'), JSON.stringify(bundleOf([identity(1), identity(2)]), null, 2));
    writeFileSync(join(folder, 'nested', 'b.json.gz'), gzipSync(JSON.stringify(bundleOf([identity(3)]))));
    writeFileSync(join(folder, 'nested', 'c.jsonl'), `${JSON.stringify(identity(4))}\n\n${JSON.stringify(identity(5))}\r\n`);
    writeFileSync(join(folder, 'nested', 'deeper', 'd.stix2'), JSON.stringify({ objects: [identity(6)] })); // a TAXII envelope
    writeFileSync(join(folder, 'nested', 'deeper', 'e.json'), JSON.stringify(identity(7))); // one bare object
    writeFileSync(join(folder, 'nested', 'f.jsonl'), `${JSON.stringify(bundleOf([identity(8), identity(9)]))}\n`); // a bundle per line
    writeFileSync(join(folder, 'README.txt'), 'not STIX');
    copyFileSync(join(folder, 'a.json'), join(folder, 'nested', 'a-copy.json'));

    const result = code(await run(['import', 'folder', folder, '--json']), 0);
    const report = result.json<ImportReport>();
    expect(report.files.map((f) => f.file.slice(folder.length + 1))).toEqual([
      'a.json', 'nested/a-copy.json', 'nested/b.json.gz', 'nested/c.jsonl', 'nested/deeper/d.stix2', 'nested/deeper/e.json', 'nested/f.jsonl',
    ]);
    expect(report.totals).toEqual({ files: 7, read: 11, stored: 9, already_present: 2, failed: 0, file_errors: 0 });
    const out = join(dir, 'folder.json');
    code(await run(['export', 'folder', out]), 0);
    expect([...byId(readBundle(out).objects!).keys()].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => identity(n).id).sort());
  });

  it('reports broken JSON and invalid objects with their positions, stores everything valid, exits with 3', async () => {
    await newCollection('mixed');
    const folder = join(dir, 'mixed');
    mkdirSync(folder);
    // Broken JSON on line 4 of a pretty-printed bundle: the object before it is stored, the rest of the file is not read.
    writeFileSync(
      join(folder, '1-broken.json'),
      `{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [\n${JSON.stringify(identity(11))},\n` +
        `${JSON.stringify(identity(12))},\n  {"type": "identity" "id": "x"},\n${JSON.stringify(identity(13))}\n]}\n`,
    );
    // Invalid objects among valid ones: objects[1] lacks its name, objects[3] is not an object, objects[4] has confidence 101.
    writeFileSync(
      join(folder, '2-invalid.json'),
      JSON.stringify(bundleOf([identity(21), identity(22, { name: undefined }), identity(23), 42, identity(24, { confidence: 101 })]), null, 1),
    );
    // JSON Lines with a broken line and an invalid object.
    writeFileSync(
      join(folder, '3-lines.jsonl'),
      [JSON.stringify(identity(31)), '{"type": "identity", "id": tru}', JSON.stringify(identity(32, { identity_class: 7 })), JSON.stringify(identity(33))].join('\n'),
    );
    // A gzipped file that is not gzip data all the way, and a file that ends too early.
    writeFileSync(join(folder, '4-truncated.json.gz'), gzipSync(JSON.stringify(bundleOf([identity(41)]))).subarray(0, 30));
    writeFileSync(join(folder, '5-unfinished.json'), JSON.stringify(bundleOf([identity(51), identity(52)])).slice(0, -30));
    writeFileSync(join(folder, '6-not-stix.json'), JSON.stringify({ hello: 'world' }));

    const result = code(await run(['import', 'mixed', folder, join(dir, 'missing.json'), '--json']), 3);
    const report = result.json<ImportReport>();
    const name = (file: string) => file.replace(`${folder}/`, '');
    expect(report.files.map((f) => [name(f.file), f.read, f.stored, f.failed, f.error])).toEqual([
      [join(dir, 'missing.json'), 0, 0, 0, 'no such file or folder'],
      ['1-broken.json', 2, 2, 0, `line 4, column 23: invalid JSON: expected ',' or '}' but found '"'`],
      ['2-invalid.json', 5, 2, 3, null],
      ['3-lines.jsonl', 4, 2, 2, null],
      ['4-truncated.json.gz', 0, 0, 0, expect.stringMatching(/^cannot decompress|unexpected end of file/)],
      ['5-unfinished.json', 1, 1, 0, expect.stringMatching(/^line 1, column \d+: invalid JSON: the file ends inside the value that starts at line 1, column \d+$/)],
      ['6-not-stix.json', 0, 0, 0, 'line 1, column 1: neither a STIX bundle (no "objects" list) nor a STIX object (no "type")'],
    ]);
    expect(report.totals).toEqual({ files: 7, read: 12, stored: 7, already_present: 0, failed: 5, file_errors: 5 });
    expect(report.failures.map((f) => ({ ...f, file: name(f.file) }))).toEqual([
      { file: '2-invalid.json', line: 14, column: 3, index: 1, id: identity(22).id, message: "identity must have required property 'name'" },
      { file: '2-invalid.json', line: 31, column: 3, index: 3, message: 'a STIX object must be a JSON object (got a number)' },
      { file: '2-invalid.json', line: 32, column: 3, index: 4, id: identity(24).id, message: 'confidence must be an integer from 0 to 100 (got 101)' },
      { file: '3-lines.jsonl', line: 2, column: 28, message: "invalid JSON: unexpected 't' where a value was expected" },
      { file: '3-lines.jsonl', line: 3, id: identity(32).id, message: 'identity_class must be a string (got 7)' },
    ]);
    const stored = byId(readBundle((code(await run(['export', 'mixed', join(dir, 'mixed.json')]), 0), join(dir, 'mixed.json'))).objects!);
    expect([...stored.keys()].sort()).toEqual([11, 12, 21, 23, 31, 33, 51].map((n) => identity(n).id).sort());

    // The readable report names files and positions.
    const readable = code(await run(['import', 'mixed', join(folder, '2-invalid.json'), join(folder, '1-broken.json'), '--no-progress']), 3);
    expect(readable.stdout).toContain(`${folder}/2-invalid.json objects[1] (line 14) ${identity(22).id}: identity must have required property 'name'\n`);
    expect(readable.stdout).toContain(`${folder}/2-invalid.json objects[3] (line 31): a STIX object must be a JSON object (got a number)\n`);
    expect(readable.stdout).toContain(`file errors:\n  ${folder}/1-broken.json: line 4, column 23: invalid JSON: expected ',' or '}' but found '"' (2 objects before it were read)`);
  });

  it('refuses an object nested deeper than MAX_JSON_DEPTH on its own, as a POST of it would be refused, and stores the rest', async () => {
    await newCollection('deep');
    let nested: unknown = 'bottom';
    for (let i = 0; i < 70; i++) nested = { level: nested };
    const file = join(dir, 'deep.json');
    writeFileSync(file, JSON.stringify(bundleOf([identity(91), identity(92, { x_nested: nested }), identity(93)])));
    const report = code(await run(['import', 'deep', file, '--json']), 3).json<ImportReport>();
    expect(report.totals).toMatchObject({ read: 3, stored: 2, failed: 1 });
    expect(report.failures).toEqual([{ file, line: 1, column: expect.any(Number), index: 1, id: identity(92).id, message: 'the object is nested deeper than 64 levels' }]);
  });

  it('refuses objects of a STIX version the collection does not accept, as a POST would', async () => {
    await newCollection('strict');
    const v20 = { type: 'identity', id: identity(61).id, created: '2024-02-01T00:00:00.000Z', modified: '2024-02-01T00:00:00.000Z', name: 'Old', identity_class: 'organization' };
    const file = join(dir, 'v20.json');
    writeFileSync(file, JSON.stringify(bundleOf([v20, identity(62)])));
    const report = code(await run(['import', 'strict', file, '--json']), 3).json<ImportReport>();
    expect(report.totals).toMatchObject({ read: 2, stored: 1, failed: 1 });
    expect(report.failures[0]).toMatchObject({ index: 0, message: expect.stringMatching(/2\.0/) });
  });

  it('exports all versions, gzipped, and views of a collection for a profile or an organisation', async () => {
    // The default profiles L1-L4 and their view indexes. (Not before the ATT&CK import: every
    // view index makes inserts slower, and that test is about the import, not the views.)
    code(await run(['migrate']), 0);
    await newCollection('versions');
    const v1 = { ...identity(71), modified: '2024-02-01T00:00:00.000Z' };
    const v2 = { ...identity(71), modified: '2024-03-01T00:00:00.000Z', name: 'Renamed' };
    const indicator = {
      type: 'indicator', spec_version: '2.1', id: 'indicator--7a2bb4a1-5f1e-4b5d-9f6a-3c1d2e4f5a6b', created: '2024-01-01T00:00:00.000Z', modified: '2024-01-01T00:00:00.000Z',
      name: 'Bad domain', pattern: "[domain-name:value = 'bad.example']", pattern_type: 'stix', valid_from: '2024-01-01T00:00:00Z', confidence: 90,
      object_marking_refs: ['marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da'],
    };
    const file = join(dir, 'versions.jsonl');
    writeFileSync(file, [v1, v2, indicator].map((o) => JSON.stringify(o)).join('\n'));
    code(await run(['import', 'versions', file]), 0);

    const latest = readBundle((code(await run(['export', 'versions', join(dir, 'latest.json')]), 0), join(dir, 'latest.json'))).objects!;
    expect(new Set(latest.map((o) => `${o.id}@${o.modified}`))).toEqual(new Set([`${v2.id}@${v2.modified}`, `${indicator.id}@${indicator.modified}`]));
    const all = code(await run(['export', 'versions', join(dir, 'all.out'), '--all-versions', '--gzip', '--page-size', '1', '--json']), 0);
    expect(all.json()).toMatchObject({ objects: 3, versions: 'all', gzip: true });
    expect(new Set(readBundle(join(dir, 'all.out')).objects!.map((o) => `${o.id}@${o.modified}`))).toEqual(
      new Set([`${v1.id}@${v1.modified}`, `${v2.id}@${v2.modified}`, `${indicator.id}@${indicator.modified}`]),
    );

    // L1 sees the TLP:GREEN indicator (confidence 90, an atomic STIX pattern) but no identity (not among its types).
    const l1 = code(await run(['export', 'versions', join(dir, 'l1.json'), '--profile', 'L1', '--page-size', '1', '--json']), 0);
    expect(l1.json()).toMatchObject({ objects: 1, view: { profile: 'L1', revision: 1 } });
    const preview = code(await run(['preview', 'versions', '--profile', 'L1', '--json']), 0).json<{ counts: { total: number } }>();
    expect(preview.counts.total).toBe(1);
    expect(readBundle(join(dir, 'l1.json')).objects!.map((o) => o.id)).toEqual([indicator.id]);

    code(await run(['organisations', 'create', 'Reader']), 0);
    const unbound = code(await run(['export', 'versions', join(dir, 'reader.json'), '--organisation', 'Reader']), 1);
    expect(unbound.stderr).toBe('error: the organisation Reader has no maturity profile: it reads nothing\n');
    code(await run(['bind', 'Reader', 'L4']), 0);
    const reader = code(await run(['export', 'versions', join(dir, 'reader.json'), '--organisation', 'Reader']), 0);
    expect(reader.stdout).toMatch(/^exported \d+ objects? \(latest versions\) of [0-9a-f-]{36} as seen through profile L4 revision 1 to /);

    // A view with nothing visible is a bundle without "objects" (STIX: a list, when present, is not empty).
    code(await run(['profiles', 'create', 'nothing', '--name', 'Nothing', '--file', writePolicy({ types: { 'x-none': {} }, custom_types: true, tlp_ceiling: 'clear', revoked_expired: 'exclude', unspecified_confidence: 'deny', closure: false })]), 0);
    code(await run(['export', 'versions', join(dir, 'empty.json'), '--profile', 'nothing']), 0);
    const empty = readBundle(join(dir, 'empty.json'));
    expect(empty).toEqual({ type: 'bundle', id: expect.stringMatching(/^bundle--/) });
  });

  it('fails with exit code 1 and one line for an unknown collection, profile or organisation, and with 2 for bad usage', async () => {
    await newCollection('errs');
    const file = join(dir, 'one.json');
    writeFileSync(file, JSON.stringify(bundleOf([identity(81)])));
    expect(code(await run(['import', 'nope', file]), 1).stderr).toBe('error: The collection nope was not found.\n');
    expect(code(await run(['export', 'nope', join(dir, 'x.json')]), 1).stderr).toBe('error: The collection nope was not found.\n');
    expect(code(await run(['export', 'errs', join(dir, 'x.json'), '--profile', 'L9']), 1).stderr).toBe('error: The profile L9 was not found.\n');
    expect(code(await run(['export', 'errs', join(dir, 'x.json'), '--organisation', 'Nobody']), 1).stderr).toBe('error: The organisation Nobody was not found.\n');
    expect(code(await run(['import', 'errs', join(dir, 'empty-folder-that-is-missing')]), 3).stdout).toContain('no such file or folder');
    writeFileSync(join(dir, 'notes.txt'), 'not STIX');
    const txt = code(await run(['import', 'errs', join(dir, 'notes.txt'), '--json']), 3).json<ImportReport>();
    expect(txt.files).toEqual([{ file: join(dir, 'notes.txt'), kind: null, read: 0, stored: 0, already_present: 0, failed: 0, error: expect.stringMatching(/^not a file kind taxii-hub imports/) }]);
    expect(code(await run(['export', 'errs', join(dir, 'no-such-folder', 'x.json')]), 1).stderr).toBe(`error: cannot write ${join(dir, 'no-such-folder', 'x.json')}: no such folder\n`);
    mkdirSync(join(dir, 'empty'));
    expect(code(await run(['import', 'errs', join(dir, 'empty')]), 1).stderr).toMatch(/^error: no file to import in /);
    expect(code(await run(['import', 'errs']), 2).stderr).toMatch(/missing required argument 'paths'/);
    expect(code(await run(['export', 'errs', join(dir, 'x.json'), '--organisation', 'A', '--profile', 'B']), 2).stderr).toMatch(/cannot be used with option/);
    expect(code(await run(['import', 'errs', file, '--batch-size', '0']), 2).stderr).toMatch(/must be from 1 to/);
  });
});

function writePolicy(policy: unknown): string {
  const path = join(dir, `policy-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(policy));
  return path;
}
