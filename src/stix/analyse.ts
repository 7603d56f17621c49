import { analysePattern } from './pattern/index.js';
import { stixTimestampToMicros } from '../taxii/timestamps.js';
import { tlpOfMarkings } from './tlp.js';

/**
 * What a stored version says about itself, for the maturity-aware views
 * (maturity-design.md, "STIX analysis at ingest"): its TLP, confidence,
 * retraction state, indicator pattern facts, and the references its
 * visibility depends on. Computed once at ingest and kept in indexed columns.
 */
export interface StixAnalysis {
  /** TLP rank (0 clear/white … 4 red); null when unmarked (the collection default applies). */
  tlp: number | null;
  confidence: number | null;
  revoked: boolean;
  /** Indicators only: valid_until in µs. */
  validUntil: number | null;
  createdByRef: string | null;
  patternType: string | null;
  patternClass: string | null;
  observablePaths: string[] | null;
  indicatorTypes: string[] | null;
  relationshipType: string | null;
  /** relationship source_ref, or sighting sighting_of_ref. */
  sourceRef: string | null;
  targetRef: string | null;
  /** Objects this version's visibility depends on (design rule 5): endpoints, sighting refs, container refs. */
  depRefs: string[] | null;
  /** Objects served with it when authorised (closure): creator identity, markings, extension definitions. */
  closureRefs: string[] | null;
}

/** Container types: served unchanged, hidden when they reference an object the reader may not see (rule 5). */
export const CONTAINER_TYPES = ['report', 'grouping', 'note', 'opinion'] as const;
/** Types that are served as closure of visible objects (rule 5). */
export const CLOSURE_TYPES = ['marking-definition', 'extension-definition', 'identity'] as const;

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
const string = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const nonEmpty = (list: string[]): string[] | null => (list.length > 0 ? [...new Set(list)] : null);

export function analyseStixObject(object: Record<string, unknown>): StixAnalysis {
  const type = object.type as string;
  const markingRefs = [
    ...strings(object.object_marking_refs),
    ...(Array.isArray(object.granular_markings)
      ? object.granular_markings.map((g) => string((g as Record<string, unknown>)?.marking_ref)).filter((r): r is string => r !== null)
      : []),
  ];
  let tlp = tlpOfMarkings(markingRefs);
  // Definitions rather than intelligence: unmarked ones count as CLEAR (design, TLP paragraph).
  if (tlp === null && (type === 'marking-definition' || type === 'extension-definition')) tlp = 0;

  const analysis: StixAnalysis = {
    tlp,
    confidence: Number.isInteger(object.confidence) ? (object.confidence as number) : null,
    revoked: object.revoked === true,
    validUntil: null,
    createdByRef: string(object.created_by_ref),
    patternType: null,
    patternClass: null,
    observablePaths: null,
    indicatorTypes: null,
    relationshipType: null,
    sourceRef: null,
    targetRef: null,
    depRefs: null,
    closureRefs: null,
  };

  if (type === 'indicator') {
    const validUntil = string(object.valid_until);
    analysis.validUntil = validUntil === null ? null : (stixTimestampToMicros(validUntil) ?? null);
    analysis.patternType = string(object.pattern_type);
    analysis.indicatorTypes = nonEmpty(strings(object.indicator_types));
    if (analysis.patternType === 'stix' && typeof object.pattern === 'string') {
      const parsed = analysePattern(object.pattern);
      if (parsed.ok) {
        analysis.patternClass = parsed.analysis.patternClass;
        analysis.observablePaths = nonEmpty(parsed.analysis.observablePaths);
      }
    }
  } else if (type === 'relationship') {
    analysis.relationshipType = string(object.relationship_type);
    analysis.sourceRef = string(object.source_ref);
    analysis.targetRef = string(object.target_ref);
    analysis.depRefs = nonEmpty([analysis.sourceRef, analysis.targetRef].filter((r): r is string => r !== null));
  } else if (type === 'sighting') {
    analysis.sourceRef = string(object.sighting_of_ref);
    analysis.depRefs = nonEmpty([
      ...(analysis.sourceRef ? [analysis.sourceRef] : []),
      ...strings(object.where_sighted_refs),
      ...strings(object.observed_data_refs),
    ]);
  } else if ((CONTAINER_TYPES as readonly string[]).includes(type)) {
    analysis.depRefs = nonEmpty(strings(object.object_refs));
  }

  const extensionDefinitions =
    object.extensions !== null && typeof object.extensions === 'object'
      ? Object.keys(object.extensions).filter((k) => k.startsWith('extension-definition--'))
      : [];
  analysis.closureRefs = nonEmpty([
    ...(analysis.createdByRef?.startsWith('identity--') ? [analysis.createdByRef] : []),
    ...markingRefs,
    ...extensionDefinitions,
  ]);
  return analysis;
}
