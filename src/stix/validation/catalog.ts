// Facts about STIX 2.1 object types that the validator needs in code (STIX 2.1 §1, §2.9,
// §6, §7.2.1.4). The JSON Schemas under schemas/stix/ carry the per-property rules.

export type StixCategory = 'sdo' | 'sro' | 'sco' | 'meta';

export const SDO_TYPES: readonly string[] = [
  'attack-pattern', 'campaign', 'course-of-action', 'grouping', 'identity', 'incident', 'indicator',
  'infrastructure', 'intrusion-set', 'location', 'malware', 'malware-analysis', 'note', 'observed-data',
  'opinion', 'report', 'threat-actor', 'tool', 'vulnerability',
];

export const SRO_TYPES: readonly string[] = ['relationship', 'sighting'];

export const SCO_TYPES: readonly string[] = [
  'artifact', 'autonomous-system', 'directory', 'domain-name', 'email-addr', 'email-message', 'file',
  'ipv4-addr', 'ipv6-addr', 'mac-addr', 'mutex', 'network-traffic', 'process', 'software', 'url',
  'user-account', 'windows-registry-key', 'x509-certificate',
];

export const META_TYPES: readonly string[] = ['language-content', 'marking-definition', 'extension-definition'];

/** Predefined SCO extensions (STIX 2.1 §6). */
export const PREDEFINED_EXTENSIONS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['file', new Set(['archive-ext', 'ntfs-ext', 'pdf-ext', 'raster-image-ext', 'windows-pebinary-ext'])],
  ['network-traffic', new Set(['http-request-ext', 'icmp-ext', 'socket-ext', 'tcp-ext'])],
  ['process', new Set(['windows-process-ext', 'windows-service-ext'])],
  ['user-account', new Set(['unix-account-ext'])],
]);

/** ID Contributing Properties per SCO type (STIX 2.1 §6.x tables; digest §2.3). */
export const ID_CONTRIBUTING_PROPERTIES: ReadonlyMap<string, readonly string[]> = new Map([
  ['artifact', ['hashes', 'payload_bin']],
  ['autonomous-system', ['number']],
  ['directory', ['path']],
  ['domain-name', ['value']],
  ['email-addr', ['value']],
  ['email-message', ['from_ref', 'subject', 'body']],
  ['file', ['hashes', 'name', 'extensions', 'parent_directory_ref']],
  ['ipv4-addr', ['value']],
  ['ipv6-addr', ['value']],
  ['mac-addr', ['value']],
  ['mutex', ['name']],
  ['network-traffic', ['start', 'end', 'src_ref', 'dst_ref', 'src_port', 'dst_port', 'protocols', 'extensions']],
  ['software', ['name', 'cpe', 'swid', 'vendor', 'version']],
  ['url', ['value']],
  ['user-account', ['account_type', 'user_id', 'account_login']],
  ['windows-registry-key', ['key', 'values']],
  ['x509-certificate', ['hashes', 'serial_number']],
]);

/** The four predefined TLP 1.0 marking definitions (STIX 2.1 §7.2.1.4). */
export interface TlpMarking {
  id: string;
  level: 'white' | 'green' | 'amber' | 'red';
  name: string;
}
export const TLP1_CREATED = '2017-01-20T00:00:00.000Z';
export const TLP1_MARKINGS: ReadonlyMap<string, TlpMarking> = new Map(
  (
    [
      ['marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9', 'white'],
      ['marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da', 'green'],
      ['marking-definition--f88d31f6-486f-44da-b317-01333bde0b82', 'amber'],
      ['marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed', 'red'],
    ] as const
  ).map(([id, level]) => [id, { id, level, name: `TLP:${level.toUpperCase()}` }]),
);

/** Pairs of timestamps where the second must not be earlier than the first (strict: must be later). */
export interface TimestampOrder {
  earlier: string;
  later: string;
  strict: boolean;
  section: string;
}
const SEEN: TimestampOrder = { earlier: 'first_seen', later: 'last_seen', strict: false, section: '' };
export const TIMESTAMP_ORDERS: ReadonlyMap<string, readonly TimestampOrder[]> = new Map([
  ['campaign', [{ ...SEEN, section: '§4.2' }]],
  ['infrastructure', [{ ...SEEN, section: '§4.8' }]],
  ['intrusion-set', [{ ...SEEN, section: '§4.9' }]],
  ['malware', [{ ...SEEN, section: '§4.11' }]],
  ['threat-actor', [{ ...SEEN, section: '§4.17' }]],
  ['sighting', [{ ...SEEN, section: '§5.2' }]],
  ['indicator', [{ earlier: 'valid_from', later: 'valid_until', strict: true, section: '§4.7' }]],
  ['observed-data', [{ earlier: 'first_observed', later: 'last_observed', strict: false, section: '§4.14' }]],
  ['relationship', [{ earlier: 'start_time', later: 'stop_time', strict: true, section: '§5.1' }]],
]);

export const NEW_OBJECT_EXTENSION_TYPES: ReadonlyMap<string, StixCategory> = new Map([
  ['new-sdo', 'sdo'],
  ['new-sco', 'sco'],
  ['new-sro', 'sro'],
]);

export const EXTENSION_DEFINITION_PREFIX = 'extension-definition--';
