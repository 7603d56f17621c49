import type { Policy } from './policy.js';

/**
 * The four default maturity levels of the design (maturity-design.md table),
 * shipped as editable profiles L1–L4.
 */
const L1_OBSERVABLES = ['domain-name', 'email-addr', 'file:hashes', 'ipv4-addr', 'ipv6-addr', 'url'];

const L1: Policy = {
  types: {
    indicator: { min_confidence: 80 },
    'course-of-action': {},
    vulnerability: {},
    report: { min_confidence: 50 },
    relationship: { min_confidence: 80, relationship_types: ['mitigates', 'remediates'] },
  },
  tlp_ceiling: 'green',
  indicators: {
    pattern_types: ['stix'],
    pattern_class: 'atomic',
    observable_types: L1_OBSERVABLES,
    denied_indicator_types: ['benign', 'anomalous-activity'],
  },
  revoked_expired: 'retractions',
  unspecified_confidence: 'deny',
  closure: true,
};

const L2: Policy = {
  types: {
    indicator: { min_confidence: 60 },
    'course-of-action': {},
    vulnerability: {},
    report: { min_confidence: 30 },
    grouping: { min_confidence: 30 },
    malware: { min_confidence: 50 },
    tool: { min_confidence: 50 },
    'attack-pattern': { min_confidence: 50 },
    relationship: {
      min_confidence: 60,
      relationship_types: ['indicates', 'uses', 'targets', 'variant-of', 'mitigates', 'remediates'],
    },
  },
  tlp_ceiling: 'amber',
  indicators: {
    pattern_types: ['stix'],
    pattern_class: 'disjunctive',
    observable_types: [...L1_OBSERVABLES, 'email-message', 'mutex', 'x509-certificate'].sort(),
    denied_indicator_types: ['benign'],
  },
  revoked_expired: 'retractions',
  unspecified_confidence: 'deny',
  closure: true,
};

const L3_FLOORED = [
  'indicator', 'relationship', 'sighting', 'observed-data', 'report', 'grouping', 'note', 'opinion', 'campaign',
  'intrusion-set', 'threat-actor', 'malware', 'malware-analysis', 'tool', 'attack-pattern', 'infrastructure', 'incident',
];

const L3: Policy = {
  types: Object.fromEntries(L3_FLOORED.map((type) => [type, { min_confidence: 30 }])),
  all_stix_types: true,
  tlp_ceiling: 'amber+strict',
  indicators: { pattern_types: ['stix', 'snort', 'suricata', 'sigma', 'yara', 'pcre'], pattern_class: 'any' },
  revoked_expired: 'retractions',
  unspecified_confidence: 'deny',
  closure: true,
};

const L4: Policy = {
  types: {},
  all_stix_types: true,
  custom_types: true,
  tlp_ceiling: 'amber+strict',
  indicators: { pattern_class: 'any' },
  revoked_expired: 'include',
  unspecified_confidence: 'allow',
  closure: true,
};

export interface DefaultLevel {
  id: string;
  name: string;
  level: string;
  policy: Policy;
}

export const DEFAULT_LEVELS: readonly DefaultLevel[] = [
  { id: 'L1', name: 'L1 Foundational', level: 'L1', policy: L1 },
  { id: 'L2', name: 'L2 Managed', level: 'L2', policy: L2 },
  { id: 'L3', name: 'L3 Proactive', level: 'L3', policy: L3 },
  { id: 'L4', name: 'L4 Adaptive', level: 'L4', policy: L4 },
];
