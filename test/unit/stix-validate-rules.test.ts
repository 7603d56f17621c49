// Targeted tests, one rule each, of the STIX 2.1 validator: the semantic checks a schema
// cannot express, spec-version handling, custom content, and a sample of schema rules.
import { isIPv6 } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createStixValidator,
  type StixSpecVersion,
  type StixValidationResult,
  type StixValidator,
} from '../../src/stix/validate.js';
import { compareTimestamps } from '../../src/stix/validation/timestamps.js';
import { deterministicScoId } from '../../src/stix/validation/deterministic-id.js';

type Obj = Record<string, unknown>;

const TS = '2021-01-01T00:00:00.000Z';
const IDENTITY = 'identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5';
const TLP_WHITE = 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9';
const TLP_GREEN = 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da';
const TLP2_GREEN = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';
const TLP2_EXT = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';
const EXT_DEF = 'extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e';

const sdo = (type: string, uuid: string, props: Obj): Obj => ({
  type,
  spec_version: '2.1',
  id: `${type}--${uuid}`,
  created: TS,
  modified: TS,
  ...props,
});

const indicator = (props: Obj = {}): Obj =>
  sdo('indicator', '8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', {
    name: 'bad ip',
    pattern: "[ipv4-addr:value = '198.51.100.1']",
    pattern_type: 'stix',
    valid_from: '2021-01-01T00:00:00Z',
    ...props,
  });
const relationship = (props: Obj = {}): Obj =>
  sdo('relationship', '44298a74-ba52-4f0c-87a3-1824e67d7fad', {
    relationship_type: 'indicates',
    source_ref: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
    target_ref: 'malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b',
    ...props,
  });
const malware = (props: Obj = {}): Obj =>
  sdo('malware', '31b940d4-6f7f-459a-80ea-9c1f17b5891b', { name: 'Poison Ivy', is_family: true, ...props });
const location = (props: Obj = {}): Obj => sdo('location', 'a6e9345f-5a15-4c29-8bb3-7dcc5d168d64', props);
const ipv4 = (props: Obj = {}): Obj => ({
  type: 'ipv4-addr',
  spec_version: '2.1',
  id: 'ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4',
  value: '198.51.100.3',
  ...props,
});
const tlp = (id: string, level: string, props: Obj = {}): Obj => ({
  type: 'marking-definition',
  spec_version: '2.1',
  id,
  created: '2017-01-20T00:00:00.000Z',
  definition_type: 'tlp',
  name: `TLP:${level.toUpperCase()}`,
  definition: { tlp: level },
  ...props,
});
const without = (o: Obj, ...keys: string[]): Obj => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

let v: StixValidator;
beforeAll(() => {
  v = createStixValidator();
});

function accepted(object: unknown, versions?: StixSpecVersion[]): StixValidationResult {
  const r = v.validate(object, versions ? { acceptSpecVersions: new Set(versions) } : undefined);
  expect(r.errors, JSON.stringify(object).slice(0, 300)).toEqual([]);
  expect(r.valid).toBe(true);
  return r;
}

function rejected(object: unknown, ...mentions: (string | RegExp)[]): StixValidationResult {
  const r = v.validate(object);
  expect(r.valid, `accepted: ${JSON.stringify(object).slice(0, 300)}`).toBe(false);
  const all = r.errors.join('\n');
  for (const m of mentions) {
    if (typeof m === 'string') expect(all).toContain(m);
    else expect(all).toMatch(m);
  }
  return r;
}

describe('timestamp ordering (semantic checks)', () => {
  it('rejects modified earlier than created (STIX §3.2)', () => {
    rejected(indicator({ created: '2021-01-02T00:00:00.000Z', modified: '2021-01-01T23:59:59.999Z' }), /modified .* must be later than or equal to created/);
  });
  it('accepts modified equal to created, at different fractional precisions (STIX §3.2)', () => {
    accepted(indicator({ created: '2021-01-01T00:00:00.000Z', modified: '2021-01-01T00:00:00.000000Z' }));
    accepted(indicator({ created: '2021-01-01T00:00:00.5Z'.replace('.5Z', '.500Z'), modified: '2021-01-01T00:00:00.5000001Z' }));
  });
  it('compares fractional seconds numerically, not as text (2021-…00Z < 2021-…00.5Z)', () => {
    expect(compareTimestamps('2021-01-01T00:00:00Z', '2021-01-01T00:00:00.5Z')).toBeLessThan(0);
    expect(compareTimestamps('2021-01-01T00:00:00.10Z', '2021-01-01T00:00:00.1Z')).toBe(0);
    expect(compareTimestamps('2021-01-01T00:00:01Z', '2021-01-01T00:00:00.999999Z')).toBeGreaterThan(0);
  });
  it('rejects valid_until equal to or earlier than valid_from (STIX §4.7)', () => {
    rejected(indicator({ valid_until: '2021-01-01T00:00:00Z' }), /valid_until .* must be later than valid_from/);
    rejected(indicator({ valid_until: '2020-12-31T00:00:00Z' }), 'valid_until');
    accepted(indicator({ valid_until: '2021-01-01T00:00:00.001Z' }));
  });
  it('rejects last_seen earlier than first_seen on campaign, malware, sighting … (STIX §4.2, §4.11, §5.2)', () => {
    const window = { first_seen: '2021-02-01T00:00:00Z', last_seen: '2021-01-01T00:00:00Z' };
    rejected(sdo('campaign', '0aeb4a59-3e2b-4ba3-9d31-d8f0c41a1e3b', { name: 'c', ...window }), /last_seen .* first_seen/);
    rejected(malware(window), 'last_seen');
    rejected(
      sdo('sighting', '8356e820-8080-4692-aa91-ecbe94006833', { sighting_of_ref: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', ...window }),
      'last_seen',
    );
    accepted(malware({ first_seen: '2021-01-01T00:00:00Z', last_seen: '2021-01-01T00:00:00Z' }));
  });
  it('rejects last_observed earlier than first_observed (STIX §4.14)', () => {
    const od = (first: string, last: string): Obj =>
      sdo('observed-data', 'cf8eaa41-6f4c-482e-89b9-9cd2d6a83cb1', {
        first_observed: first,
        last_observed: last,
        number_observed: 1,
        object_refs: ['ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4'],
      });
    rejected(od('2021-01-02T00:00:00Z', '2021-01-01T00:00:00Z'), /last_observed .* first_observed/);
    accepted(od('2021-01-01T00:00:00Z', '2021-01-01T00:00:00Z'));
  });
  it('rejects stop_time not later than start_time (STIX §5.1)', () => {
    rejected(relationship({ start_time: '2021-01-01T00:00:00Z', stop_time: '2021-01-01T00:00:00Z' }), /stop_time .* must be later than start_time/);
    accepted(relationship({ start_time: '2021-01-01T00:00:00Z', stop_time: '2021-01-01T00:00:01Z' }));
  });
  it('requires millisecond precision on created and modified (STIX §3.2) but not on other timestamps', () => {
    rejected(indicator({ created: '2021-01-01T00:00:00Z' }), 'created', 'millisecond');
    rejected(indicator({ modified: '2021-01-01T00:00:00.1Z' }), 'modified');
    accepted(indicator({ valid_from: '2021-01-01T00:00:00Z', valid_until: '2022-01-01T00:00:00.1Z' }));
  });
  it('rejects timestamps with offsets, impossible months and a dot without digits (STIX §2.16)', () => {
    rejected(indicator({ valid_from: '2021-01-01T00:00:00+00:00' }), 'valid_from');
    rejected(indicator({ valid_from: '2021-13-01T00:00:00Z' }), 'valid_from');
    rejected(indicator({ valid_from: '2021-01-01T00:00:00.Z' }), 'valid_from');
  });
});

describe('location (STIX §4.10)', () => {
  it('rejects a location with none of region, country, or latitude and longitude', () => {
    rejected(location({ name: 'somewhere' }), /at least one of region, country, or latitude and longitude/);
    rejected(location({ latitude: 48.8 }), 'longitude');
  });
  it('accepts region, country, or latitude with longitude', () => {
    accepted(location({ region: 'europe' }));
    accepted(location({ country: 'FR' }));
    accepted(location({ latitude: 48.8566, longitude: 2.3522, precision: 1000 }));
  });
  it('rejects out-of-range coordinates and precision without coordinates', () => {
    rejected(location({ latitude: 91, longitude: 0 }), 'latitude');
    rejected(location({ country: 'FR', precision: 10 }), 'precision');
  });
});

describe('marking definitions (STIX §7.2)', () => {
  it('accepts the four predefined TLP 1.0 marking definitions', () => {
    accepted(tlp('marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9', 'white'));
    accepted(tlp('marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da', 'green'));
    accepted(tlp('marking-definition--f88d31f6-486f-44da-b317-01333bde0b82', 'amber'));
    accepted(tlp('marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed', 'red'));
  });
  it('rejects a TLP 1.0 marking with a non-predefined id (INV-076, STIX §7.2.1.4)', () => {
    rejected(tlp('marking-definition--0a2c1f6e-6b64-4d2e-9a51-0b3a9a5c7e11', 'white'), 'predefined');
  });
  it('rejects a predefined TLP id whose definition, name or created differ (STIX §7.2.1.4)', () => {
    rejected(tlp(TLP_WHITE, 'white', { definition: { tlp: 'green' } }), 'definition');
    rejected(tlp(TLP_WHITE, 'white', { name: 'TLP:CLEAR' }), 'name');
    rejected(without(tlp(TLP_WHITE, 'white'), 'name'), 'name', 'TLP:WHITE');
    rejected(tlp(TLP_WHITE, 'white', { created: '2020-01-01T00:00:00.000Z' }), 'created');
    rejected(tlp(TLP_WHITE, 'white', { definition_type: 'statement', definition: { statement: 'x' } }), 'predefined');
  });
  it('rejects a TLP level outside white/green/amber/red (INV-075)', () => {
    rejected(tlp(TLP_WHITE, 'purple'), 'tlp');
  });
  it('warns about a "TLP" definition_type spelled in capitals (open vocabulary, not TLP)', () => {
    const r = accepted(tlp('marking-definition--0a2c1f6e-6b64-4d2e-9a51-0b3a9a5c7e11', 'test', { definition_type: 'TLP' }));
    expect(r.warnings.join(' ')).toContain('TLP');
  });
  it('requires definition_type and definition when extensions is absent (STIX §7.2.1)', () => {
    const statement = {
      type: 'marking-definition',
      spec_version: '2.1',
      id: 'marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f',
      created: TS,
      definition_type: 'statement',
      definition: { statement: 'Copyright 2021' },
    };
    accepted(statement);
    rejected(without(statement, 'definition'), 'definition_type and definition are required');
    rejected({ ...statement, definition: { text: 'x' } }, 'statement');
  });
  it('accepts the TLP 2.0 markings expressed as an extension (no definition_type)', () => {
    accepted({
      type: 'marking-definition',
      spec_version: '2.1',
      id: TLP2_GREEN,
      created: '2022-10-01T00:00:00.000Z',
      name: 'TLP:GREEN',
      extensions: { [TLP2_EXT]: { extension_type: 'property-extension', tlp_2_0: 'green' } },
    });
  });
  it('rejects a marking definition that marks itself (no circular references, STIX §7.2.1)', () => {
    const md = {
      type: 'marking-definition',
      spec_version: '2.1',
      id: TLP2_GREEN,
      created: '2022-10-01T00:00:00.000Z',
      extensions: { [TLP2_EXT]: { extension_type: 'property-extension', tlp_2_0: 'green' } },
    };
    rejected({ ...md, object_marking_refs: [TLP2_GREEN] }, 'object_marking_refs', 'itself');
    rejected({ ...md, granular_markings: [{ marking_ref: TLP2_GREEN, selectors: ['created'] }] }, 'marking_ref', 'itself');
  });
  it('warns about modified on a marking definition (not applicable: not versioned) and rejects revoked', () => {
    const r = accepted(tlp(TLP_GREEN, 'green', { modified: '2017-01-20T00:00:00.000Z' }));
    expect(r.warnings.join(' ')).toContain('modified');
    rejected(tlp(TLP_GREEN, 'green', { revoked: false }), 'revoked', 'not applicable');
  });
  it('rejects object_marking_refs that are not marking-definition ids (STIX §7.2.2)', () => {
    rejected(indicator({ object_marking_refs: [IDENTITY] }), 'object_marking_refs', 'marking-definition');
  });
});

describe('granular markings (STIX §7.2.3)', () => {
  const gm = (selectors: string[], extra: Obj = {}): Obj =>
    indicator({
      description: 'desc',
      labels: ['a', 'b'],
      external_references: [{ source_name: 'src', url: 'https://example.com' }],
      granular_markings: [{ marking_ref: TLP_GREEN, selectors, ...extra }],
    });
  it('accepts selectors that resolve to present content', () => {
    accepted(gm(['description', 'labels.[1]', 'external_references.[0].source_name', 'external_references.[0]']));
  });
  it('rejects selectors that do not resolve to content present in the object', () => {
    rejected(gm(['no_such_property']), 'selectors/0', 'does not select content');
    rejected(gm(['labels.[2]']), 'labels.[2]');
    rejected(gm(['description.[0]']), 'description.[0]');
    rejected(gm(['external_references.[0].external_id']), 'external_id');
  });
  it('rejects malformed selectors', () => {
    rejected(gm(['labels..[0]']), 'not a valid selector');
    rejected(gm(['[0]']), 'selector');
  });
  it('requires exactly one of marking_ref and lang', () => {
    rejected(indicator({ granular_markings: [{ selectors: ['name'] }] }), 'marking_ref or lang');
    rejected(gm(['description'], { lang: 'en' }), 'must not have both marking_ref and lang');
    accepted(indicator({ granular_markings: [{ lang: 'de', selectors: ['name'] }] }));
  });
});

describe('identifiers (STIX §2.9)', () => {
  it('rejects an id whose prefix is not the object type', () => {
    rejected(indicator({ id: 'malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f' }), 'indicator--');
  });
  it('rejects a UUID with a non-RFC 4122 variant or an unknown version', () => {
    rejected(indicator({ id: 'indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f' }), 'variant');
    rejected(indicator({ id: 'indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f' }), 'version');
  });
  it('rejects created_by_ref that is not an identity id', () => {
    rejected(indicator({ created_by_ref: 'malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b' }), 'created_by_ref', 'identity');
    accepted(indicator({ created_by_ref: IDENTITY }));
  });
  it('rejects relationships to or from SROs, markings, bundles, language-content and extension-definitions (STIX §5.1)', () => {
    for (const target of [
      'relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad',
      'sighting--8356e820-8080-4692-aa91-ecbe94006833',
      TLP_GREEN,
      'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d',
      'language-content--b86bd89f-98bb-4fa9-8cb2-9ad421da981d',
      EXT_DEF,
    ]) {
      rejected(relationship({ target_ref: target }), 'target_ref');
      rejected(relationship({ source_ref: target }), 'source_ref');
    }
    accepted(relationship({ target_ref: 'ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4' }));
    accepted(relationship({ target_ref: 'x-acme-widget--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f' }));
  });
  it('checks sighting reference targets (STIX §5.2)', () => {
    const s = (props: Obj): Obj =>
      sdo('sighting', '8356e820-8080-4692-aa91-ecbe94006833', { sighting_of_ref: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', ...props });
    accepted(s({ where_sighted_refs: [IDENTITY, 'location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64'], observed_data_refs: ['observed-data--cf8eaa41-6f4c-482e-89b9-9cd2d6a83cb1'] }));
    rejected(s({ sighting_of_ref: 'ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4' }), 'sighting_of_ref');
    rejected(s({ where_sighted_refs: ['malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b'] }), 'where_sighted_refs');
    rejected(s({ observed_data_refs: [IDENTITY] }), 'observed_data_refs');
  });
  it('checks malware reference targets (STIX §4.11)', () => {
    rejected(malware({ sample_refs: ['ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4'] }), 'sample_refs');
    rejected(malware({ operating_system_refs: [IDENTITY] }), 'operating_system_refs');
  });
});

describe('lang (RFC 5646, syntactic check)', () => {
  it.each(['en', 'de', 'pt-BR', 'zh-Hant-TW', 'sr-Latn-RS', 'de-CH-1901', 'es-419', 'en-US-x-twain', 'x-klingon', 'i-klingon', 'EN'])(
    'accepts %s',
    (tag) => {
      accepted(indicator({ lang: tag }));
    },
  );
  it.each(['english', 'en_US', 'e', '123', 'en-', 'deutsch-DE', ''])('rejects %s', (tag) => {
    rejected(indicator({ lang: tag }), 'lang', 'RFC 5646');
  });
});

describe('spec_version handling (STIX §3.2)', () => {
  it('rejects an SDO without spec_version (a STIX 2.0 object) by default, with a clear message', () => {
    const r = rejected(without(indicator(), 'spec_version'), 'STIX 2.0 objects are not accepted by this collection', 'spec_version');
    expect(r.specVersion).toBe('2.0');
  });
  it('accepts a STIX 2.0 SDO when the collection accepts 2.0 (spec_version requirement relaxed)', () => {
    const r = accepted(without(indicator(), 'spec_version'), ['2.0', '2.1']);
    expect(r.specVersion).toBe('2.0');
    accepted(indicator({ spec_version: '2.0' }), ['2.0']);
  });
  it('rejects spec_version "2.0" unless accepted, and 2.1 objects when only 2.0 is accepted', () => {
    rejected(indicator({ spec_version: '2.0' }), 'STIX 2.0 objects are not accepted');
    const r = v.validate(indicator(), { acceptSpecVersions: new Set(['2.0']) });
    expect(r.valid).toBe(false);
    expect(r.errors.join(' ')).toContain('STIX 2.1 objects are not accepted');
  });
  it('treats an SCO without spec_version as STIX 2.1', () => {
    const r = accepted(without(ipv4(), 'spec_version'));
    expect(r.specVersion).toBe('2.1');
  });
  it('rejects spec_version values other than "2.1"/"2.0" (INV-013, INV-014)', () => {
    rejected(indicator({ spec_version: '2.2' }), 'spec_version');
    rejected(indicator({ spec_version: 2.1 }), 'spec_version');
  });
});

describe('object shape and category rules', () => {
  it('rejects a bundle among objects ("a bundle is not a STIX object", STIX §8)', () => {
    rejected({ type: 'bundle', id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d', objects: [indicator()] }, 'a bundle is not a STIX object');
  });
  it('rejects non-objects and objects without a valid type', () => {
    rejected([indicator()], 'JSON object');
    rejected('indicator', 'JSON object');
    rejected(null, 'JSON object');
    rejected(without(indicator(), 'type'), "'type'");
    rejected(indicator({ type: 'Indicator' }), 'type');
    rejected(indicator({ type: 'x--y' }), 'type');
  });
  it('rejects defanged on an SDO and created/labels on an SCO (not applicable, STIX §3.2)', () => {
    rejected(indicator({ defanged: true }), 'defanged', 'not applicable');
    rejected(ipv4({ created: TS }), 'created', 'not applicable');
    rejected(ipv4({ labels: ['x'] }), 'labels');
    accepted(ipv4({ defanged: true }));
  });
  it('rejects empty lists and empty dictionaries (STIX §2.3, §2.12)', () => {
    rejected(indicator({ labels: [] }), 'labels', 'empty');
    rejected(indicator({ extensions: {} }), 'extensions', 'empty');
    rejected({ type: 'file', id: 'file--3788221b-d529-5ffb-a2ef-6ce0b5ca4185', hashes: {} }, 'hashes');
  });
  it('rejects confidence outside 0-100 or not an integer (STIX §3.2)', () => {
    rejected(indicator({ confidence: 101 }), 'confidence must be an integer from 0 to 100 (got 101)');
    rejected(indicator({ confidence: 50.5 }), 'confidence');
    accepted(indicator({ confidence: 0 }));
    accepted(indicator({ confidence: 100 }));
  });
  it('rejects reserved property names and invalid property names (STIX §3.1, §3.8)', () => {
    for (const reserved of ['severity', 'username', 'phone_number', 'action']) rejected(indicator({ [reserved]: 'x' }), reserved, 'reserved');
    rejected(indicator({ ab: 1 }), "'ab'");
    rejected(indicator({ 'x-acme': 1 }), "'x-acme'");
    rejected(indicator({ X_ACME: 1 }), "'X_ACME'");
  });
  it('reports nested paths as JSON pointers, e.g. /kill_chain_phases/0 must have required property \'phase_name\'', () => {
    rejected(indicator({ kill_chain_phases: [{ kill_chain_name: 'lockheed' }] }), "/kill_chain_phases/0 must have required property 'phase_name'");
  });
  it('requires at least one of description, url or external_id in an external reference (STIX §2.5)', () => {
    rejected(indicator({ external_references: [{ source_name: 'x' }] }), 'description, url or external_id');
  });
  it('checks CAPEC and CVE external ids on attack-pattern and vulnerability (STIX §4.1, §4.19)', () => {
    const ap = (ref: Obj): Obj => sdo('attack-pattern', '0a3ead4e-6d47-4ccb-854c-a6a4f9d96b22', { name: 'x', external_references: [ref] });
    accepted(ap({ source_name: 'capec', external_id: 'CAPEC-163' }));
    rejected(ap({ source_name: 'capec', external_id: 'T1068' }), 'capec');
    const vuln = (ref: Obj): Obj => sdo('vulnerability', '0a3ead4e-6d47-4ccb-854c-a6a4f9d96b22', { name: 'x', external_references: [ref] });
    accepted(vuln({ source_name: 'cve', external_id: 'CVE-2016-1234' }));
    rejected(vuln({ source_name: 'cve', external_id: 'CVE-16-1' }), 'cve');
  });
  it('accepts unknown open-vocabulary values but rejects values outside closed enumerations (STIX §2.4, §2.14)', () => {
    accepted(indicator({ indicator_types: ['something-new'], pattern_type: 'stix' }));
    accepted(malware({ malware_types: ['never-heard-of'] }));
    const op = (opinion: string): Obj =>
      sdo('opinion', 'b01efc25-77b4-4003-b18b-f6e24b5cd9f7', { opinion, object_refs: [IDENTITY] });
    accepted(op('agree'));
    rejected(op('mostly-agree'), 'opinion', 'strongly-disagree');
  });
  it('requires name on a malware family and is_family on every malware (STIX §4.11)', () => {
    rejected(without(malware(), 'name'), 'name is required when is_family is true');
    accepted(without(malware({ is_family: false }), 'name'));
    rejected(without(malware(), 'is_family'), 'is_family');
  });
});

describe('extensions (STIX §7.3)', () => {
  it('requires extension_type when an extensions key is an extension-definition id', () => {
    rejected(indicator({ extensions: { [EXT_DEF]: { rank: 5 } } }), 'extension_type');
    rejected(indicator({ extensions: { [EXT_DEF]: { extension_type: 'new-thing' } } }), 'extension_type');
    accepted(indicator({ extensions: { [EXT_DEF]: { extension_type: 'property-extension', rank: 5 } } }));
  });
  it('accepts top-level extension properties without the custom-property warning when a toplevel-property-extension is declared', () => {
    const r = accepted(indicator({ rank: 5, extensions: { [EXT_DEF]: { extension_type: 'toplevel-property-extension' } } }));
    expect(r.warnings).toEqual([]);
  });
  it('validates predefined SCO extensions (archive-ext needs contains_refs; socket-ext address_family is an enum)', () => {
    const file = (ext: Obj): Obj => ({ type: 'file', id: 'file--7af1312c-4402-5d2f-b169-b118d73b85c4', name: 'foo.zip', extensions: ext });
    rejected(file({ 'archive-ext': { comment: 'x' } }), 'contains_refs');
    accepted(file({ 'archive-ext': { contains_refs: ['file--3788221b-d529-5ffb-a2ef-6ce0b5ca4185'] } }));
    const nt = (ext: Obj): Obj => ({
      type: 'network-traffic',
      id: 'network-traffic--29d12884-b683-579b-a663-0e5a193009c1',
      dst_ref: 'ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4',
      protocols: ['tcp'],
      extensions: ext,
    });
    rejected(nt({ 'socket-ext': { address_family: 'AF_WHATEVER' } }), 'address_family');
    accepted(nt({ 'socket-ext': { address_family: 'AF_INET' } }));
    rejected(nt({ 'http-request-ext': { request_method: 'get', request_value: '/', request_header: { Accept: 'text/plain' } } }), 'request_header');
  });
});

describe('custom content (STIX §11, digest §12.2)', () => {
  const custom = (props: Obj = {}): Obj =>
    sdo('x-mitre-tactic', 'ffd5bcee-6e16-4dd2-8eca-7b3beedf33ca', { name: 'Exfiltration', x_mitre_shortname: 'exfiltration', ...props });
  it('accepts an x- custom object under the SDO rules', () => {
    expect(accepted(custom()).warnings).toEqual([]);
  });
  it('applies the category rules to custom objects (modified required once created is present)', () => {
    rejected(without(custom(), 'modified'), 'modified');
    rejected(custom({ created: '2021-01-01T00:00:00Z', modified: '2021-01-01T00:00:00Z' }), 'created');
  });
  it('rejects a custom object whose id prefix is not its type', () => {
    rejected(custom({ id: 'x-mitre-matrix--ffd5bcee-6e16-4dd2-8eca-7b3beedf33ca' }), 'x-mitre-tactic--');
  });
  it('accepts a new-sdo extension object without x- prefix, and warns about an unknown type with neither', () => {
    const mine = sdo('my-favorite-sdo', 'ffd5bcee-6e16-4dd2-8eca-7b3beedf33ca', {
      name: 'x',
      extensions: { [EXT_DEF]: { extension_type: 'new-sdo' } },
    });
    expect(accepted(mine).warnings).toEqual([]);
    const unknown = sdo('widget', 'ffd5bcee-6e16-4dd2-8eca-7b3beedf33ca', { name: 'x' });
    expect(accepted(unknown).warnings.join(' ')).toContain('x-');
  });
  it('accepts a custom SCO (no created/modified) and rejects SDO-only properties on it', () => {
    accepted({ type: 'x-acme-gadget', id: 'x-acme-gadget--ffd5bcee-6e16-4dd2-8eca-7b3beedf33ca', serial: 'abc' });
    rejected({ type: 'x-acme-gadget', id: 'x-acme-gadget--ffd5bcee-6e16-4dd2-8eca-7b3beedf33ca', confidence: 5 }, 'confidence');
  });
  it('accepts custom properties without the x_ prefix with a warning (INV-042), and x_ properties silently', () => {
    expect(accepted(indicator({ score: 80 })).warnings.join(' ')).toContain("'score'");
    expect(accepted(indicator({ x_acme_score: 80 })).warnings).toEqual([]);
  });
});

describe('indicator patterns (STIX §9)', () => {
  it('rejects a pattern that does not parse when pattern_type is "stix"', () => {
    rejected(indicator({ pattern: "[ipv4-addr:value = '1.2.3.4'" }), /^pattern is not a valid STIX pattern: /m);
  });
  it('does not parse patterns of other pattern types (yara, snort, …)', () => {
    accepted(indicator({ pattern_type: 'yara', pattern: 'rule x { condition: true }' }));
  });
  it('warns when the pattern names an object type that is not an SCO (INV-054)', () => {
    expect(accepted(indicator({ pattern: "[domain:value = 'example.com']" })).warnings.join(' ')).toContain('domain');
  });
});

describe('cyber-observable values and ids (STIX §6, §2.9)', () => {
  it('checks IPv4 values and CIDR blocks', () => {
    accepted(ipv4({ value: '10.0.0.0/8' }));
    rejected(ipv4({ value: '999.1.2.3' }), 'IPv4');
    rejected(ipv4({ value: '10.0.0.0/33' }), 'IPv4');
  });
  it('checks IPv6 values against node:net for a set of tricky spellings', () => {
    const cases = ['::', '::1', '2001:db8::', '2001:db8::1/64', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8', '1::8', 'fe80::1:2:3:4:5', ':::1', '1:2:3:4:5:6:7:8:9', '2001:db8::/129', '12345::', 'g::1'];
    for (const value of cases) {
      const [address, prefix] = value.split('/');
      const expected = isIPv6(address ?? '') && (prefix === undefined || Number(prefix) <= 128);
      const r = v.validate({ type: 'ipv6-addr', id: 'ipv6-addr--1e4ffad7-0b88-41d4-ba4d-77d27490b956', value });
      expect(r.valid, value).toBe(expected);
    }
  });
  it('checks hash lengths of the hash-algorithm-ov names (STIX §2.7)', () => {
    const file = (hashes: Obj): Obj => ({ type: 'file', id: 'file--3788221b-d529-5ffb-a2ef-6ce0b5ca4185', hashes });
    rejected(file({ 'SHA-256': 'abc' }), 'SHA-256');
    rejected(file({ MD5: 'z'.repeat(32) }), 'MD5');
    accepted(file({ 'SHA-256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'x-custom-hash': 'anything' }));
  });
  it('requires a URL with a scheme in url.value (RFC 3986)', () => {
    rejected({ type: 'url', id: 'url--64cbbdc1-a7b3-5a54-ac07-97bfb44bb009', value: 'hugesoft.org' }, 'value', 'URL');
    accepted({ type: 'url', id: 'url--64cbbdc1-a7b3-5a54-ac07-97bfb44bb009', value: 'http://hugesoft.org/' });
  });
  it('computes the deterministic UUIDv5 of the spec examples', () => {
    expect(deterministicScoId({ type: 'ipv4-addr', value: '198.51.100.3' }, 'ipv4-addr')).toBe('ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4');
    expect(deterministicScoId({ type: 'domain-name', value: 'example.com' }, 'domain-name')).toBe('domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7');
  });
  it('warns, without rejecting, when an SCO id is not the deterministic UUIDv5', () => {
    expect(accepted(ipv4()).warnings).toEqual([]);
    const r = accepted(ipv4({ id: 'ipv4-addr--1e4ffad7-0b88-41d4-ba4d-77d27490b956' }));
    expect(r.warnings.join(' ')).toContain('deterministic');
  });
});

describe('the validator API', () => {
  it('is reusable and does not leak state between calls', () => {
    rejected(indicator({ confidence: 101 }), 'confidence');
    const r = accepted(indicator());
    expect(r.warnings).toEqual([]);
    expect(r.specVersion).toBe('2.1');
  });
  it('does not throw on hostile nesting in custom properties or SCO extensions', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(v.validate(indicator({ x_deep: deep })).valid).toBe(true);
    const file = { type: 'file', id: 'file--7af1312c-4402-5d2f-b169-b118d73b85c4', name: 'a', extensions: { 'x-deep-ext': { deep } } };
    expect(() => v.validate(file)).not.toThrow();
    expect(v.validate(indicator({ confidence: deep })).errors.join(' ')).toContain('confidence');
  });
  it('never puts stack traces in messages', () => {
    const r = v.validate(indicator({ pattern: '[' + '('.repeat(5000) }));
    expect(r.valid).toBe(false);
    for (const e of r.errors) expect(e).not.toMatch(/\n\s+at /);
  });
});
