import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_DATA_DIR } from './shared-data.js';

/**
 * The authored bad-input corpus (invalid/authored of the shared data): its index, the
 * cases' bytes, and what the message for each object-level case must mention. Shared by
 * the validator unit tests and the HTTP tests.
 */
export interface IndexEntry {
  case_id: string;
  file: string;
  level: 'object' | 'bundle' | 'envelope' | 'document';
  category: string;
  rule: string;
  expected: 'reject' | 'accept-with-warning' | 'partial' | 'policy';
}

export const AUTHORED = join(SHARED_DATA_DIR, 'invalid', 'authored');
export const authoredIndex = JSON.parse(readFileSync(join(AUTHORED, 'index.json'), 'utf8')) as IndexEntry[];

export function authoredCase(caseId: string): IndexEntry {
  const entry = authoredIndex.find((e) => e.case_id === caseId);
  if (!entry) throw new Error(`${caseId} is not in invalid/authored/index.json`);
  return entry;
}

/** The exact bytes of a case (some are not JSON, one is not UTF-8). */
export function caseBytes(entry: IndexEntry): Buffer {
  return readFileSync(join(AUTHORED, entry.file));
}

export function loadCase(entry: IndexEntry): unknown {
  return JSON.parse(caseBytes(entry).toString('utf8')) as unknown;
}

/** What the message (error or warning) must mention for each case: the rule's property. */
export const MENTIONS: Record<string, string[]> = {
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

/** Whether one of the messages mentions every needle. */
export function mentionsAll(messages: string[], needles: string[]): boolean {
  return messages.some((m) => needles.every((n) => m.includes(n)));
}
