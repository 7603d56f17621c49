// The authored bad-input corpus (/work/shared/data/invalid/authored): every object-level
// case is rejected with a message naming the rule's property, or accepted with a warning.
//
// Skipped here (they belong to the HTTP / envelope layer, not to per-object validation):
// - json-syntax, body not parseable JSON: INV-001 (truncated), INV-002 (single quotes),
//   INV-003 (comment), INV-004 (invalid UTF-8), INV-005 (empty body);
// - document / envelope level: INV-006 (top-level array), INV-007 (top-level string),
//   INV-097 (envelope objects not a list), INV-098 (envelope more not a boolean);
// - bundle level: INV-090 (bundle without type), INV-091 (bundle id), INV-092 (objects not a
//   list), INV-093 (objects empty), INV-095 (duplicate object), INV-099 (same version,
//   different content).
// Bundle-level cases that test per-member validation are run member by member:
// INV-094 (one invalid member) and INV-096 (a nested bundle member).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStixValidator, type StixValidator } from '../../src/stix/validate.js';
import { DATA_DIR } from './stix-validate-corpus.js';

interface IndexEntry {
  case_id: string;
  file: string;
  level: 'object' | 'bundle' | 'envelope' | 'document';
  category: string;
  rule: string;
  expected: 'reject' | 'accept-with-warning' | 'partial' | 'policy';
}

const AUTHORED = join(DATA_DIR, 'invalid', 'authored');
const index = JSON.parse(readFileSync(join(AUTHORED, 'index.json'), 'utf8')) as IndexEntry[];

const SKIPPED = new Set([
  'INV-001', 'INV-002', 'INV-003', 'INV-004', 'INV-005', // json-syntax
  'INV-006', 'INV-007', 'INV-097', 'INV-098', // document / envelope
  'INV-090', 'INV-091', 'INV-092', 'INV-093', 'INV-095', 'INV-099', // bundle level
]);

/** What the message (error or warning) must mention for each case: the rule's property. */
const MENTIONS: Record<string, string[]> = {
  'INV-010': ['type'],
  'INV-011': ['id'],
  'INV-012': ['spec_version', '2.0'],
  'INV-013': ['spec_version'],
  'INV-014': ['spec_version'],
  'INV-015': ['created'],
  'INV-016': ['modified'],
  'INV-017': ['id', 'indicator--'],
  'INV-018': ['id', 'UUID'],
  'INV-019': ['id', 'variant'],
  'INV-020': ['type'],
  'INV-021': ['type', '3-250'],
  'INV-022': ['created', 'UTC'],
  'INV-023': ['created', 'RFC 3339'],
  'INV-024': ['created'],
  'INV-025': ['created', 'millisecond'],
  'INV-026': ['modified', 'created'],
  'INV-027': ['confidence', '0 to 100'],
  'INV-028': ['confidence'],
  'INV-029': ['confidence'],
  'INV-030': ['confidence', 'integer'],
  'INV-031': ['created_by_ref'],
  'INV-032': ['created_by_ref', 'identity'],
  'INV-033': ['object_marking_refs', 'marking-definition'],
  'INV-034': ['object_marking_refs', 'list'],
  'INV-035': ['object_marking_refs', 'empty'],
  'INV-036': ['labels'],
  'INV-037': ['external_references', 'source_name'],
  'INV-038': ['lang', 'RFC 5646'],
  'INV-039': ['xy', 'property name'],
  'INV-040': ['x-Vendor-Score', 'property name'],
  'INV-041': ['severity', 'reserved'],
  'INV-042': ['score', 'x_'],
  'INV-043': ['selectors', 'no_such_property'],
  'INV-044': ['granular_markings', 'marking_ref'],
  'INV-050': ['pattern'],
  'INV-051': ['pattern_type'],
  'INV-052': ['valid_from'],
  'INV-053': ['pattern', 'not a valid STIX pattern'],
  'INV-054': ['pattern', 'domain'],
  'INV-055': ['valid_until', 'valid_from'],
  'INV-056': ['pattern', 'not a valid STIX pattern'],
  'INV-057': ['indicator_types', 'empty'],
  'INV-058': ['is_family'],
  'INV-059': ['is_family', 'boolean'],
  'INV-060': ['name', 'is_family'],
  'INV-061': ['source_ref'],
  'INV-062': ['relationship_type'],
  'INV-063': ['target_ref', 'marking-definition'],
  'INV-064': ['relationship_type'],
  'INV-065': ['stop_time', 'start_time'],
  'INV-066': ['sighting_of_ref'],
  'INV-067': ['sighting_of_ref', 'SDO'],
  'INV-068': ['count'],
  'INV-069': ['last_seen', 'first_seen'],
  'INV-070': ['number_observed'],
  'INV-071': ['object_refs'],
  'INV-072': ['last_observed', 'first_observed'],
  'INV-073': ['name'],
  'INV-074': ['sectors', 'list'],
  'INV-075': ['tlp', 'white'],
  'INV-076': ['TLP', 'predefined', 'id'],
  'INV-077': ['object_marking_refs', 'itself'],
  'INV-078': ['created'],
  'INV-079': ['value', 'IPv4'],
  'INV-080': ['SHA-1', '40'],
  'INV-081': ['id', 'ipv4-addr--'],
};

function load(entry: IndexEntry): unknown {
  return JSON.parse(readFileSync(join(AUTHORED, entry.file), 'utf8')) as unknown;
}

function mentionsAll(messages: string[], needles: string[]): boolean {
  return messages.some((m) => needles.every((n) => m.includes(n)));
}

let validator: StixValidator;
beforeAll(() => {
  validator = createStixValidator();
});

describe('authored invalid corpus (invalid/authored/index.json), object level', () => {
  const objectCases = index.filter((e) => e.level === 'object' && !SKIPPED.has(e.case_id));

  it('has an expectation for every object-level case that is not skipped', () => {
    const unlisted = objectCases.filter((e) => !(e.case_id in MENTIONS)).map((e) => e.case_id);
    expect(unlisted).toEqual([]);
    const unknownSkips = [...SKIPPED].filter((id) => !index.some((e) => e.case_id === id));
    expect(unknownSkips).toEqual([]);
  });

  const rejects = objectCases.filter((e) => e.expected === 'reject');
  it.each(rejects.map((e) => [e.case_id, e.rule, e] as const))('%s rejects: %s', (id, _rule, entry) => {
    const result = validator.validate(load(entry));
    expect(result.valid, `${id} was accepted`).toBe(false);
    const needles = MENTIONS[id] ?? [];
    expect(mentionsAll(result.errors, needles), `${id} errors ${JSON.stringify(result.errors)} should mention ${JSON.stringify(needles)}`).toBe(true);
    for (const error of result.errors) expect(error).not.toMatch(/\n\s+at /); // no stack traces
  });

  const warns = objectCases.filter((e) => e.expected === 'accept-with-warning');
  it('has the two accept-with-warning cases (INV-042, INV-054)', () => {
    expect(warns.map((e) => e.case_id).sort()).toEqual(['INV-042', 'INV-054']);
  });
  it.each(warns.map((e) => [e.case_id, e.rule, e] as const))('%s accepts with a warning: %s', (id, _rule, entry) => {
    const result = validator.validate(load(entry));
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.warnings.length).toBeGreaterThanOrEqual(1);
    const needles = MENTIONS[id] ?? [];
    expect(mentionsAll(result.warnings, needles), `${id} warnings ${JSON.stringify(result.warnings)}`).toBe(true);
  });
});

describe('authored invalid corpus, bundle cases validated member by member', () => {
  const members = (caseId: string): unknown[] => {
    const entry = index.find((e) => e.case_id === caseId);
    if (!entry) throw new Error(`${caseId} not in index.json`);
    const bundle = load(entry) as { objects: unknown[] };
    return bundle.objects;
  };

  it('INV-094: the valid member is accepted and the indicator without pattern is rejected', () => {
    const [good, bad] = members('INV-094').map((m) => validator.validate(m));
    expect(good?.valid).toBe(true);
    expect(bad?.valid).toBe(false);
    expect(bad?.errors.some((e) => e.includes("'pattern'"))).toBe(true);
  });

  it('INV-096: a bundle nested inside a bundle\'s objects is rejected ("a bundle is not a STIX object", STIX §8)', () => {
    const [nested] = members('INV-096').map((m) => validator.validate(m));
    expect(nested?.valid).toBe(false);
    expect(nested?.errors.join(' ')).toMatch(/a bundle is not a STIX object/);
  });
});

describe('invalid/authored/valid-controls.json and cti-stix-validator examples', () => {
  it('accepts the nine unmutated base objects without errors', () => {
    const bundle = JSON.parse(readFileSync(join(AUTHORED, 'valid-controls.json'), 'utf8')) as { objects: unknown[] };
    expect(bundle.objects).toHaveLength(9);
    for (const object of bundle.objects) expect(validator.validate(object).errors).toEqual([]);
  });

  const examples = join(DATA_DIR, 'invalid', 'validator-test-examples');
  const read = (name: string): unknown => JSON.parse(readFileSync(join(examples, name), 'utf8')) as unknown;
  const first = (doc: unknown): unknown => {
    const d = doc as { type?: string; objects?: unknown[] };
    return d.type === 'bundle' && Array.isArray(d.objects) ? d.objects[0] : doc;
  };

  it('rejects invalid_identity.json (identity without modified)', () => {
    const r = validator.validate(first(read('invalid_identity.json')));
    expect(r.valid).toBe(false);
    expect(r.errors.join(' ')).toContain("'modified'");
  });

  it('rejects invalid_timestamp.json (modified earlier than created, STIX §3.2)', () => {
    const r = validator.validate(first(read('invalid_timestamp.json')));
    expect(r.valid).toBe(false);
    expect(r.errors.join(' ')).toMatch(/modified .* must be later than or equal to created/);
  });

  it('accepts identity_custom.json and tool.json with a warning about custom properties without x_', () => {
    for (const name of ['identity_custom.json', 'tool.json']) {
      const r = validator.validate(first(read(name)));
      expect(r.valid).toBe(true);
      expect(r.warnings.join(' ')).toMatch(/x_/);
    }
  });

  it('accepts identity.json, identity_unicode.json, identity_warning.json and tlp-amber.json (TLP 2.0)', () => {
    for (const name of ['identity.json', 'identity_unicode.json', 'identity_warning.json', 'tlp-amber.json']) {
      expect(validator.validate(first(read(name))).errors, name).toEqual([]);
    }
  });
});
