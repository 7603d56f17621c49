// The authored bad-input corpus (invalid/authored of the shared data): every object-level
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
import { AUTHORED, authoredIndex as index, loadCase as load, MENTIONS, mentionsAll } from '../support/authored-cases.js';
import { DATA_DIR } from './stix-validate-corpus.js';

const SKIPPED = new Set([
  'INV-001', 'INV-002', 'INV-003', 'INV-004', 'INV-005', // json-syntax
  'INV-006', 'INV-007', 'INV-097', 'INV-098', // document / envelope
  'INV-090', 'INV-091', 'INV-092', 'INV-093', 'INV-095', 'INV-099', // bundle level
]);

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
