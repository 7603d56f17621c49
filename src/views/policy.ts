import { TLP_LEVELS, tlpRank, type TlpLevel } from '../stix/tlp.js';
import { SCO_TYPES, SDO_TYPES, SRO_TYPES, META_TYPES } from '../stix/validation/catalog.js';

/**
 * A maturity profile's policy (maturity-design.md): which objects a reader can
 * act on. Policies are plain data, validated on the way in, combined by
 * intersection (reader ∩ collection pin), and compiled to SQL by
 * views/view-sql.ts.
 */
export interface TypeRule {
  /** Inclusive confidence floor; absent means no floor. */
  min_confidence?: number;
  /** relationship only: the relationship_type values allowed; absent means any. */
  relationship_types?: string[];
}

export type PatternClassLimit = 'atomic' | 'disjunctive' | 'any';
export type RetractionMode = 'exclude' | 'retractions' | 'include';

export interface IndicatorLimits {
  /** pattern_type values allowed; absent means any. */
  pattern_types?: string[];
  pattern_class?: PatternClassLimit;
  /** Observable types ("ipv4-addr") or type:property ("file:hashes") a stix pattern may name; absent means any. */
  observable_types?: string[];
  denied_indicator_types?: string[];
}

export interface Policy {
  /** Types allowed, each with its rule. */
  types: Record<string, TypeRule>;
  /** Every type defined by STIX 2.1 is allowed too (rules in `types` still apply to those listed). */
  all_stix_types?: boolean;
  /** Custom types (x-… and other types STIX 2.1 does not define) are allowed too. */
  custom_types?: boolean;
  /** Highest TLP served; RED is reachable only through grants. */
  tlp_ceiling: Exclude<TlpLevel, 'red'>;
  indicators?: IndicatorLimits;
  revoked_expired: RetractionMode;
  /** Objects without confidence: denied for types with a floor unless a default applies ("deny"), or allowed. */
  unspecified_confidence: 'deny' | 'allow';
  /** Serve marking definitions, extension definitions and creator identities of visible objects. */
  closure: boolean;
}

export const STIX_TYPES: readonly string[] = [...SDO_TYPES, ...SRO_TYPES, ...SCO_TYPES, ...META_TYPES];
const STIX_TYPE_SET = new Set(STIX_TYPES);
export const isStixType = (type: string) => STIX_TYPE_SET.has(type);

const CLASS_ORDER: PatternClassLimit[] = ['atomic', 'disjunctive', 'any'];
const RETRACTION_ORDER: RetractionMode[] = ['exclude', 'retractions', 'include'];

/** Whether a type is allowed, and under which rule. */
export function typeRule(policy: Policy, type: string): TypeRule | undefined {
  const explicit = policy.types[type];
  if (explicit) return explicit;
  if (policy.all_stix_types && isStixType(type)) return {};
  if (policy.custom_types && !isStixType(type)) return {};
  return undefined;
}

function intersectLists(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const set = new Set(b);
  return a.filter((x) => set.has(x));
}

/**
 * Observable limits intersect with care: "file" allows every file path, so
 * "file" ∩ "file:hashes" is "file:hashes".
 */
function intersectObservables(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const allows = (list: string[], entry: string) => list.includes(entry) || list.includes(entry.split(':')[0]!);
  return [...new Set([...a.filter((x) => allows(b, x)), ...b.filter((x) => allows(a, x))])].sort();
}

function maxOptional(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

/**
 * The effective policy of a read: the reader's profile ∩ the collection's
 * pinned profile. Types intersect, floors take the max, the TLP ceiling the
 * min, indicator limits the strictest, and the stricter retraction rule wins.
 */
export function intersectPolicies(a: Policy, b: Policy): Policy {
  const types: Record<string, TypeRule> = {};
  for (const type of new Set([...Object.keys(a.types), ...Object.keys(b.types)])) {
    const ra = typeRule(a, type);
    const rb = typeRule(b, type);
    if (!ra || !rb) continue;
    const rule: TypeRule = {};
    const floor = maxOptional(ra.min_confidence, rb.min_confidence);
    if (floor !== undefined) rule.min_confidence = floor;
    const relationshipTypes = intersectLists(ra.relationship_types, rb.relationship_types);
    if (relationshipTypes !== undefined) rule.relationship_types = relationshipTypes;
    types[type] = rule;
  }
  const indicators: IndicatorLimits = {};
  const ia = a.indicators ?? {};
  const ib = b.indicators ?? {};
  const patternTypes = intersectLists(ia.pattern_types, ib.pattern_types);
  if (patternTypes) indicators.pattern_types = patternTypes;
  const classA = CLASS_ORDER.indexOf(ia.pattern_class ?? 'any');
  const classB = CLASS_ORDER.indexOf(ib.pattern_class ?? 'any');
  indicators.pattern_class = CLASS_ORDER[Math.min(classA, classB)]!;
  const observables = intersectObservables(ia.observable_types, ib.observable_types);
  if (observables) indicators.observable_types = observables;
  const denied = [...new Set([...(ia.denied_indicator_types ?? []), ...(ib.denied_indicator_types ?? [])])];
  if (denied.length > 0) indicators.denied_indicator_types = denied;
  return {
    types,
    all_stix_types: Boolean(a.all_stix_types && b.all_stix_types),
    custom_types: Boolean(a.custom_types && b.custom_types),
    tlp_ceiling: TLP_LEVELS[Math.min(tlpRank(a.tlp_ceiling), tlpRank(b.tlp_ceiling))] as Policy['tlp_ceiling'],
    indicators,
    revoked_expired: RETRACTION_ORDER[Math.min(RETRACTION_ORDER.indexOf(a.revoked_expired), RETRACTION_ORDER.indexOf(b.revoked_expired))]!,
    unspecified_confidence: a.unspecified_confidence === 'allow' && b.unspecified_confidence === 'allow' ? 'allow' : 'deny',
    closure: a.closure && b.closure,
  };
}
