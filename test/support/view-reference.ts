import { analysePattern } from '../../src/stix/pattern/index.js';
import { META_TYPES, SCO_TYPES, SDO_TYPES, SRO_TYPES } from '../../src/stix/validation/catalog.js';
import type { IndicatorLimits, Policy, TypeRule } from '../../src/views/policy.js';

/**
 * A plain in-memory reference of the maturity-aware views (maturity-design.md
 * and the rules of the view contract), written from the rules and not from the
 * SQL: no import from src/views/view-sql.ts or src/db. It keeps the stored
 * versions of one collection and answers, for one reader, which versions are
 * served, in which order and with which view date_added. It also predicts the
 * collection clock: cseq of new versions, the relative date_added of a POST
 * and the versions it re-adds.
 *
 * Times are integers of microseconds since the epoch.
 */

// ---- STIX facts (from the rules) ----------------------------------------------------------

/** The 9 TLP 1.0 / 2.0 marking definition ids and their rank (clear/white 0 … red 4). */
export const TLP_RANK: Readonly<Record<string, number>> = {
  'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9': 0, // TLP 1.0 WHITE
  'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da': 1, // TLP 1.0 GREEN
  'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82': 2, // TLP 1.0 AMBER
  'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed': 4, // TLP 1.0 RED
  'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487': 0, // TLP 2.0 CLEAR
  'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb': 1, // TLP 2.0 GREEN
  'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421': 2, // TLP 2.0 AMBER
  'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003': 3, // TLP 2.0 AMBER+STRICT
  'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1': 4, // TLP 2.0 RED
};
const CEILING_RANK: Readonly<Record<Policy['tlp_ceiling'], number>> = { clear: 0, green: 1, amber: 2, 'amber+strict': 3 };
const CEILINGS: Policy['tlp_ceiling'][] = ['clear', 'green', 'amber', 'amber+strict'];

export const REF_CONTAINER_TYPES: ReadonlySet<string> = new Set(['report', 'grouping', 'note', 'opinion']);
export const REF_CLOSURE_TYPES: ReadonlySet<string> = new Set(['marking-definition', 'extension-definition', 'identity']);
const STIX21_TYPES: ReadonlySet<string> = new Set([...SDO_TYPES, ...SRO_TYPES, ...SCO_TYPES, ...META_TYPES]);

const TICK = 1000;

type Json = Record<string, unknown>;
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** µs since the epoch of an RFC 3339 UTC timestamp with 0–9 fractional digits. */
export function micros(timestamp: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(timestamp);
  if (!m) throw new Error(`not a UTC timestamp: ${timestamp}`);
  return Date.parse(`${m[1]}Z`) * 1000 + Number((m[2] ?? '').padEnd(6, '0').slice(0, 6));
}

/** YYYY-MM-DDTHH:MM:SS.ssssssZ */
export function formatMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}

/** The version key of a STIX timestamp: the same instant with nine fractional digits, so text order is time order. */
export function versionKey(timestamp: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(timestamp);
  if (!m) throw new Error(`not a STIX timestamp: ${timestamp}`);
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}Z`;
}

/** What the rules need to know about one stored version. */
export interface Facts {
  type: string;
  /** TLP rank from the markings, or null when no TLP marking (then the collection default, except definitions). */
  markedTlp: number | null;
  confidence: number | null;
  revoked: boolean;
  validUntil: number | null;
  createdByRef: string | null;
  patternType: string | null;
  patternClass: string | null;
  observablePaths: string[];
  indicatorTypes: string[];
  relationshipType: string | null;
  sourceRef: string | null;
  targetRef: string | null;
  /** relationship [source, target]; sighting [sighting_of, where_sighted…, observed_data…]; container object_refs. */
  depRefs: string[];
  /** created_by_ref (if an identity id), object_marking_refs, granular marking_refs, extension-definition keys. */
  closureRefs: string[];
}

export function factsOf(object: Json): Facts {
  const type = object.type as string;
  const markingRefs = [
    ...strings(object.object_marking_refs),
    ...(Array.isArray(object.granular_markings) ? object.granular_markings.map((g) => str((g as Json).marking_ref)).filter((r): r is string => r !== null) : []),
  ];
  let markedTlp: number | null = null;
  for (const ref of markingRefs) {
    const rank = TLP_RANK[ref];
    if (rank !== undefined) markedTlp = Math.max(markedTlp ?? 0, rank);
  }
  const createdByRef = str(object.created_by_ref);
  const facts: Facts = {
    type,
    markedTlp,
    confidence: typeof object.confidence === 'number' && Number.isInteger(object.confidence) ? object.confidence : null,
    revoked: object.revoked === true,
    validUntil: null,
    createdByRef,
    patternType: null,
    patternClass: null,
    observablePaths: [],
    indicatorTypes: strings(object.indicator_types),
    relationshipType: null,
    sourceRef: null,
    targetRef: null,
    depRefs: [],
    closureRefs: [],
  };
  if (type === 'indicator') {
    const until = str(object.valid_until);
    facts.validUntil = until === null ? null : micros(until);
    facts.patternType = str(object.pattern_type);
    if (facts.patternType === 'stix') {
      const parsed = analysePattern(object.pattern as string);
      if (!parsed.ok) throw new Error(`the generator made an unparsable pattern: ${String(object.pattern)}`);
      facts.patternClass = parsed.analysis.patternClass;
      facts.observablePaths = parsed.analysis.observablePaths;
    }
  } else if (type === 'relationship') {
    facts.relationshipType = str(object.relationship_type);
    facts.sourceRef = str(object.source_ref);
    facts.targetRef = str(object.target_ref);
    facts.depRefs = [facts.sourceRef, facts.targetRef].filter((r): r is string => r !== null);
  } else if (type === 'sighting') {
    facts.sourceRef = str(object.sighting_of_ref);
    facts.depRefs = [...(facts.sourceRef ? [facts.sourceRef] : []), ...strings(object.where_sighted_refs), ...strings(object.observed_data_refs)];
  } else if (REF_CONTAINER_TYPES.has(type)) {
    facts.depRefs = strings(object.object_refs);
  }
  const extensions = object.extensions !== null && typeof object.extensions === 'object' ? Object.keys(object.extensions) : [];
  facts.closureRefs = [
    ...(createdByRef?.startsWith('identity--') ? [createdByRef] : []),
    ...markingRefs,
    ...extensions.filter((k) => k.startsWith('extension-definition--')),
  ];
  facts.depRefs = [...new Set(facts.depRefs)];
  facts.closureRefs = [...new Set(facts.closureRefs)];
  return facts;
}

// ---- policies -----------------------------------------------------------------------------

/** The rule of a type: listed in types, or all_stix_types and a STIX 2.1 type, or custom_types and not one. */
export function ruleOf(policy: Policy, type: string): TypeRule | undefined {
  if (Object.prototype.hasOwnProperty.call(policy.types, type)) return policy.types[type];
  if (policy.all_stix_types && STIX21_TYPES.has(type)) return {};
  if (policy.custom_types && !STIX21_TYPES.has(type)) return {};
  return undefined;
}

const listMeet = (a: string[] | undefined, b: string[] | undefined) => (a === undefined ? b : b === undefined ? a : a.filter((x) => b.includes(x)));
const CLASSES = ['atomic', 'disjunctive', 'any'] as const;
const MODES = ['exclude', 'retractions', 'include'] as const;

/** reader ∩ pinned, with the semantics of intersectPolicies (the contract names it as the definition). */
export function intersect(a: Policy, b: Policy): Policy {
  const types: Record<string, TypeRule> = {};
  for (const type of new Set([...Object.keys(a.types), ...Object.keys(b.types)])) {
    const ra = ruleOf(a, type);
    const rb = ruleOf(b, type);
    if (!ra || !rb) continue;
    const rule: TypeRule = {};
    const floors = [ra.min_confidence, rb.min_confidence].filter((f): f is number => f !== undefined);
    if (floors.length > 0) rule.min_confidence = Math.max(...floors);
    const relationshipTypes = listMeet(ra.relationship_types, rb.relationship_types);
    if (relationshipTypes !== undefined) rule.relationship_types = relationshipTypes;
    types[type] = rule;
  }
  const ia: IndicatorLimits = a.indicators ?? {};
  const ib: IndicatorLimits = b.indicators ?? {};
  const indicators: IndicatorLimits = {};
  const patternTypes = listMeet(ia.pattern_types, ib.pattern_types);
  if (patternTypes) indicators.pattern_types = patternTypes;
  indicators.pattern_class = CLASSES[Math.min(CLASSES.indexOf(ia.pattern_class ?? 'any'), CLASSES.indexOf(ib.pattern_class ?? 'any'))]!;
  if (ia.observable_types === undefined || ib.observable_types === undefined) {
    const only = ia.observable_types ?? ib.observable_types;
    if (only) indicators.observable_types = only;
  } else {
    // "file" allows every file path: "file" ∩ "file:hashes" is "file:hashes".
    const allows = (list: string[], entry: string) => list.includes(entry) || list.includes(entry.split(':')[0]!);
    const oa = ia.observable_types;
    const ob = ib.observable_types;
    indicators.observable_types = [...new Set([...oa.filter((x) => allows(ob, x)), ...ob.filter((x) => allows(oa, x))])].sort();
  }
  const denied = [...new Set([...(ia.denied_indicator_types ?? []), ...(ib.denied_indicator_types ?? [])])];
  if (denied.length > 0) indicators.denied_indicator_types = denied;
  return {
    types,
    all_stix_types: Boolean(a.all_stix_types && b.all_stix_types),
    custom_types: Boolean(a.custom_types && b.custom_types),
    tlp_ceiling: CEILINGS[Math.min(CEILING_RANK[a.tlp_ceiling], CEILING_RANK[b.tlp_ceiling])]!,
    indicators,
    revoked_expired: MODES[Math.min(MODES.indexOf(a.revoked_expired), MODES.indexOf(b.revoked_expired))]!,
    unspecified_confidence: a.unspecified_confidence === 'allow' && b.unspecified_confidence === 'allow' ? 'allow' : 'deny',
    closure: a.closure && b.closure,
  };
}

// ---- the stored collection ----------------------------------------------------------------

export interface StoredVersion {
  id: string;
  type: string;
  /** The version string as served (the first stored copy's modified/created, or the server's for SCOs). */
  version: string;
  versionKey: string;
  body: string;
  facts: Facts;
  cseq: number;
  /** Current date_added (re-adds move it). */
  dateAdded: number;
}

export interface PlannedVersion {
  index: number;
  object: Json;
  body: string;
  id: string;
  cseq: number;
  /** undefined for SCOs (no created/modified): the server makes the version from date_added. */
  version: string | undefined;
}

export interface PostOutcome {
  /** The new versions, in envelope order. */
  added: StoredVersion[];
  /** Versions re-added by this POST, in cseq order. */
  readded: StoredVersion[];
}

/** A date_added the server reports, by (id, version). */
export type ObservedDates = Map<string, { dateAdded: number; version: string }>;
export const versionSlot = (id: string, version: string) => `${id}@${version}`;

export class ReferenceCollection {
  readonly versions: StoredVersion[] = [];
  lastCseq = 0;
  /** The collection clock: a lower bound of the next tick minus one step. */
  clock = 0;
  readonly creatorConfidence = new Map<string, number>();

  constructor(
    public defaultTlp: number,
    public defaultConfidence: number | null,
  ) {}

  versionsOf(id: string): StoredVersion[] {
    return this.versions.filter((v) => v.id === id);
  }

  isStored(id: string): boolean {
    return this.versions.some((v) => v.id === id);
  }

  /** latest(X): the greatest version key (modified, else created; SCOs have one version). */
  latest(id: string): StoredVersion | undefined {
    let best: StoredVersion | undefined;
    for (const v of this.versions) if (v.id === id && (!best || v.versionKey > best.versionKey)) best = v;
    return best;
  }

  first(id: string): StoredVersion | undefined {
    let best: StoredVersion | undefined;
    for (const v of this.versions) if (v.id === id && (!best || v.versionKey < best.versionKey)) best = v;
    return best;
  }

  storedIds(): string[] {
    return [...new Set(this.versions.map((v) => v.id))];
  }

  /** Which objects of an envelope are new versions (duplicates of a stored or earlier (id, version) are skipped). */
  planPost(objects: Json[]): PlannedVersion[] {
    const planned: PlannedVersion[] = [];
    let cseq = this.lastCseq;
    for (const object of objects) {
      const id = object.id as string;
      const version = str(object.modified) ?? str(object.created) ?? undefined;
      const duplicate =
        version === undefined
          ? this.isStored(id) || planned.some((p) => p.id === id)
          : this.versions.some((v) => v.id === id && v.versionKey === versionKey(version)) ||
            planned.some((p) => p.id === id && p.version !== undefined && versionKey(p.version) === versionKey(version));
      if (duplicate) continue;
      planned.push({ index: planned.length, object, body: JSON.stringify(object), id, cseq: ++cseq, version });
    }
    return planned;
  }

  /**
   * What a POST does, for a given date_added of its first new version: the new
   * versions (base + one tick each, in envelope order) and the re-added ones
   * (in cseq order, one tick each after the last new version). Which versions
   * move does not depend on the base, since every stored date is before it.
   */
  private simulate(planned: PlannedVersion[], base: number): PostOutcome {
    const added: StoredVersion[] = planned.map((p) => {
      const dateAdded = base + TICK * p.index;
      const version = p.version ?? formatMicros(dateAdded);
      return { id: p.id, type: p.object.type as string, version, versionKey: versionKey(version), body: p.body, facts: factsOf(p.object), cseq: p.cseq, dateAdded };
    });
    const all = [...this.versions, ...added];
    const latestOf = (id: string) => all.filter((v) => v.id === id).reduce((a, b) => (b.versionKey > a.versionKey ? b : a));
    // C: new versions that became the latest of their object.
    const changed = added.filter((v) => latestOf(v.id) === v);
    // D: versions whose dep_refs name a changed object added after them, and versions of
    // objects that a changed version references for closure, when it was added after them.
    const moving = all.filter(
      (v) =>
        changed.some((c) => v.facts.depRefs.includes(c.id) && c.dateAdded > v.dateAdded) ||
        changed.some((c) => c.facts.closureRefs.includes(v.id) && c.dateAdded > v.dateAdded),
    );
    moving.sort((a, b) => a.cseq - b.cseq);
    return { added, readded: moving };
  }

  /**
   * The position (in ticks after the first new version) of the earliest
   * date_added this POST hands out: the first new version that is not
   * re-added, else the first re-add. The caller finds the base from the
   * server's earliest new date with it.
   */
  firstTickPosition(planned: PlannedVersion[]): number {
    const { added, readded } = this.simulate(planned, this.clock + TICK);
    const stays = added.findIndex((v) => !readded.includes(v));
    return stays >= 0 ? stays : added.length;
  }

  /** Applies a POST whose first new version was dated `base` (the model cannot know "now"). */
  applyPost(planned: PlannedVersion[], base: number): PostOutcome {
    if (planned.length === 0) return { added: [], readded: [] };
    const outcome = this.simulate(planned, base);
    this.versions.push(...outcome.added);
    this.lastCseq = outcome.added[outcome.added.length - 1]!.cseq;
    const firstFree = base + TICK * outcome.added.length;
    outcome.readded.forEach((v, k) => (v.dateAdded = firstFree + TICK * k));
    this.clock = firstFree - TICK + TICK * outcome.readded.length;
    return outcome;
  }

  /** A policy event reserved the block [E, E + last_cseq]. */
  applyEpoch(epoch: number): void {
    this.clock = epoch + this.lastCseq;
  }

  view(reader: ReaderContext, nowUs: number): ReferenceView {
    return new ReferenceView(this, reader, nowUs);
  }
}

/** One reader: its effective policy (profile ∩ pinned), its grants, its latest policy epoch. */
export interface ReaderContext {
  policy: Policy;
  /** Granted stix id → granted_us. */
  grants: ReadonlyMap<string, number>;
  /** E_r: max epoch over organisation, its profile, the pinned profile and the collection (0 if none). */
  epoch: number;
}

export interface ServedVersion {
  v: StoredVersion;
  isLatest: boolean;
  isFirst: boolean;
  viewDate: number;
}

export class ReferenceView {
  private readonly latestById = new Map<string, StoredVersion>();
  private readonly visibleMemo = new Map<string, boolean>();
  readonly served: ServedVersion[];
  private readonly grantClosure: Set<string>;

  constructor(
    readonly collection: ReferenceCollection,
    readonly reader: ReaderContext,
    readonly nowUs: number,
  ) {
    for (const id of collection.storedIds()) this.latestById.set(id, collection.latest(id)!);
    this.grantClosure = new Set(
      [...reader.grants.keys()].flatMap((id) => this.latestById.get(id)?.facts.closureRefs ?? []),
    );
    const served: ServedVersion[] = [];
    for (const v of collection.versions) {
      if (!this.isServed(v)) continue;
      served.push({ v, isLatest: this.latestById.get(v.id) === v, isFirst: collection.first(v.id) === v, viewDate: this.viewDate(v) });
    }
    served.sort((a, b) => a.viewDate - b.viewDate || a.v.cseq - b.v.cseq);
    this.served = served;
  }

  private get policy(): Policy {
    return this.reader.policy;
  }

  tlp(v: StoredVersion): number {
    if (v.facts.markedTlp !== null) return v.facts.markedTlp;
    if (v.type === 'marking-definition' || v.type === 'extension-definition') return 0;
    return this.collection.defaultTlp;
  }

  authorised(v: StoredVersion): boolean {
    return this.tlp(v) <= CEILING_RANK[this.policy.tlp_ceiling] || this.reader.grants.has(v.id);
  }

  relevant(v: StoredVersion): boolean {
    const rule = ruleOf(this.policy, v.type);
    if (!rule) return false;
    const f = v.facts;
    if (rule.min_confidence !== undefined) {
      if (f.confidence !== null) {
        if (f.confidence < rule.min_confidence) return false;
      } else if (this.policy.unspecified_confidence !== 'allow') {
        const fallback = (f.createdByRef !== null ? this.collection.creatorConfidence.get(f.createdByRef) : undefined) ?? this.collection.defaultConfidence;
        if (fallback === null || fallback < rule.min_confidence) return false;
      }
    }
    if (v.type === 'relationship' && rule.relationship_types && !rule.relationship_types.includes(f.relationshipType ?? '')) return false;
    if (v.type === 'indicator') {
      const limits = this.policy.indicators ?? {};
      if (limits.pattern_types && !limits.pattern_types.includes(f.patternType ?? '')) return false;
      if (f.patternType === 'stix') {
        if (limits.pattern_class === 'atomic' && f.patternClass !== 'atomic') return false;
        if (limits.pattern_class === 'disjunctive' && f.patternClass !== 'atomic' && f.patternClass !== 'disjunctive') return false;
        const allowed = limits.observable_types;
        if (allowed) {
          const typeEntries = allowed.filter((e) => !e.includes(':'));
          const pathEntries = allowed.filter((e) => e.includes(':'));
          for (const path of f.observablePaths) {
            if (!typeEntries.includes(path.split(':')[0]!) && !pathEntries.includes(path)) return false;
          }
        }
      }
      if (limits.denied_indicator_types?.some((t) => f.indicatorTypes.includes(t))) return false;
    }
    return true;
  }

  passes(v: StoredVersion): boolean {
    return this.authorised(v) && this.relevant(v);
  }

  retracted(v: StoredVersion): boolean {
    return v.facts.revoked || (v.type === 'indicator' && v.facts.validUntil !== null && v.facts.validUntil <= this.nowUs);
  }

  visibleLatest(latest: StoredVersion): boolean {
    switch (this.policy.revoked_expired) {
      case 'include':
        return this.passes(latest);
      case 'exclude':
        return this.passes(latest) && !this.retracted(latest);
      case 'retractions':
        if (!this.retracted(latest)) return this.passes(latest);
        return this.authorised(latest) && this.collection.versionsOf(latest.id).some((e) => e !== latest && this.passes(e));
    }
  }

  /** Every stored id among the refs has an authorised latest version. */
  private refsAuthorised(refs: string[]): boolean {
    return refs.every((id) => {
      const latest = this.latestById.get(id);
      return latest === undefined || this.authorised(latest);
    });
  }

  containerOk(latest: StoredVersion): boolean {
    return !REF_CONTAINER_TYPES.has(latest.type) || this.refsAuthorised(latest.facts.depRefs);
  }

  endpointVisible(id: string | null): boolean {
    if (id === null) return false;
    const latest = this.latestById.get(id);
    return latest !== undefined && this.visibleLatest(latest) && this.containerOk(latest);
  }

  graphOk(latest: StoredVersion): boolean {
    if (latest.type === 'relationship') return this.endpointVisible(latest.facts.sourceRef) && this.endpointVisible(latest.facts.targetRef);
    if (latest.type === 'sighting') return this.endpointVisible(latest.facts.sourceRef) && this.refsAuthorised(latest.facts.depRefs);
    return this.containerOk(latest);
  }

  closureVisible(id: string): boolean {
    const latest = this.latestById.get(id);
    if (!this.policy.closure || !latest || !REF_CLOSURE_TYPES.has(latest.type) || !this.authorised(latest)) return false;
    for (const z of this.latestById.values()) {
      if (z.facts.closureRefs.includes(id) && this.visibleLatest(z) && this.graphOk(z)) return true;
    }
    return false;
  }

  objectVisible(id: string): boolean {
    const memo = this.visibleMemo.get(id);
    if (memo !== undefined) return memo;
    const latest = this.latestById.get(id);
    const visible = latest !== undefined && ((this.visibleLatest(latest) && this.graphOk(latest)) || this.closureVisible(id));
    this.visibleMemo.set(id, visible);
    return visible;
  }

  isServed(v: StoredVersion): boolean {
    if (!this.objectVisible(v.id)) return false;
    if (this.latestById.get(v.id) === v || this.passes(v)) return true;
    return this.policy.closure && REF_CLOSURE_TYPES.has(v.type) && this.authorised(v);
  }

  /** Whether a version's view date involves a grant, and the grant time that applies. */
  grantTime(v: StoredVersion): number | undefined {
    const grants = this.reader.grants;
    if (grants.size === 0) return undefined;
    if (this.grantClosure.has(v.id)) return Math.max(...grants.values());
    const times = [v.id, ...v.facts.depRefs].map((id) => grants.get(id)).filter((t): t is number => t !== undefined);
    return times.length > 0 ? Math.max(...times) : undefined;
  }

  viewDate(v: StoredVersion): number {
    const tier = (t: number) => (v.dateAdded <= t ? t + v.cseq : v.dateAdded);
    const g = this.grantTime(v);
    return g === undefined ? tier(this.reader.epoch) : Math.max(tier(this.reader.epoch), tier(g));
  }

  visibleIds(): Set<string> {
    return new Set(this.served.filter((s) => s.isLatest).map((s) => s.v.id));
  }
}
