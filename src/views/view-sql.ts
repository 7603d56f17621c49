import { CLOSURE_TYPES, CONTAINER_TYPES } from '../stix/analyse.js';
import { tlpRank } from '../stix/tlp.js';
import { STIX_TYPES, typeRule, type Policy, type TypeRule } from './policy.js';

/**
 * Compiles an effective policy into SQL predicates over object_versions rows
 * (maturity-design rule 2: the view is filtered in the database, so limit,
 * next and keyset paging stay exact).
 *
 * The text depends on the policy only: its rules are written as literals, and
 * everything that varies per request (collection, defaults, grants, creator
 * defaults, "now") is read from a one-row relation `p` (VIEW_PARAMS) that the
 * query joins. So the text is compiled once per policy and cached, and the
 * queries built from it are the same statement each time (prepared once per
 * connection).
 *
 * Vocabulary (the design's rules):
 * - authorised: within the TLP ceiling (unmarked: the collection default), or granted;
 * - relevant: the type, its confidence floor and the indicator limits allow it;
 * - passes: authorised and relevant, judged on the version alone;
 * - visible latest: the latest version decides, with retractions (rules 3, 4);
 * - graph: relationship and sighting endpoints visible, container refs authorised (rule 5);
 * - closure: markings, extension definitions and creator identities (rule 5).
 */
export interface ViewParams {
  collectionId: string;
  /** TLP rank applied to unmarked objects. */
  defaultTlp: number;
  defaultConfidence: number | null;
  /** STIX ids granted to the reader's organisation in this collection. */
  grantedIds: readonly string[];
  /** Default confidence by creator identity. */
  creatorConfidence: Readonly<Record<string, number>>;
  /** "Now" for valid_until (µs). */
  nowUs: number;
}

/** The per-request values, in the order VIEW_PARAMS reads them ($1..$6 of its own text). */
export function viewParamValues(params: ViewParams): unknown[] {
  return [params.collectionId, params.defaultTlp, params.defaultConfidence, [...params.grantedIds], JSON.stringify(params.creatorConfidence), params.nowUs];
}

/**
 * The relation `p` of per-request values; `first` is the number of the first
 * positional parameter it uses (six in a row).
 */
export function viewParamsRelation(first: number): string {
  const n = (i: number) => `$${first + i}`;
  return `(select ${n(0)}::uuid as collection_id, ${n(1)}::int as default_tlp, ${n(2)}::int as default_confidence,
    ${n(3)}::text[] as granted, ${n(4)}::jsonb as creators, ${n(5)}::int8 as now_us) p`;
}

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;
const textArray = (values: readonly string[]) => `array[${values.map(quote).join(', ')}]::text[]`;
const and = (...parts: string[]) => (parts.length === 0 ? 'true' : parts.length === 1 ? parts[0]! : `(${parts.join(' and ')})`);
const or = (...parts: string[]) => (parts.length === 0 ? 'false' : parts.length === 1 ? parts[0]! : `(${parts.join(' or ')})`);

export interface CompiledView {
  readonly policy: Policy;
  /** Whether the object of a latest version (row alias `alias`) is visible. */
  objectVisible(alias: string): string;
  /** Whether a version (latest or not) is served. */
  versionVisible(alias: string): string;
}

const compiled = new Map<string, CompiledView>();

/** The compiled view of a policy, cached under a key naming it (e.g. its profile revisions). */
export function compileView(key: string, policy: Policy): CompiledView {
  let view = compiled.get(key);
  if (!view) {
    if (compiled.size > 500) compiled.clear();
    const compiler = new ViewCompiler(policy);
    const cache = new Map<string, string>();
    const memo = (name: string, alias: string, build: () => string) => {
      const k = `${name}:${alias}`;
      let text = cache.get(k);
      if (text === undefined) cache.set(k, (text = build()));
      return text;
    };
    view = {
      policy,
      objectVisible: (alias) => memo('object', alias, () => compiler.objectVisible(alias)),
      versionVisible: (alias) => memo('version', alias, () => compiler.versionVisible(alias)),
    };
    compiled.set(key, view);
  }
  return view;
}

class ViewCompiler {
  private aliasCounter = 0;
  private readonly ceiling: number;
  private readonly explicitTypes: [string, TypeRule][];

  constructor(readonly policy: Policy) {
    this.ceiling = tlpRank(policy.tlp_ceiling);
    this.explicitTypes = Object.entries(policy.types);
    const indicatorRule = typeRule(policy, 'indicator');
    if (indicatorRule && !policy.types.indicator) this.explicitTypes.push(['indicator', indicatorRule]);
  }

  private alias(prefix: string): string {
    return `${prefix}${++this.aliasCounter}`;
  }

  authorised(a: string): string {
    return `(coalesce(${a}.tlp, p.default_tlp) <= ${this.ceiling} or ${a}.stix_id = any(p.granted))`;
  }

  private floors(): Record<string, number> {
    const floors: Record<string, number> = {};
    for (const [type, rule] of this.explicitTypes) if (rule.min_confidence !== undefined) floors[type] = rule.min_confidence;
    return floors;
  }

  private confidenceOk(a: string): string {
    const floors = this.floors();
    if (Object.keys(floors).length === 0) return 'true';
    const floor = `(${quote(JSON.stringify(floors))}::jsonb ->> ${a}.stix_type)::int`;
    if (this.policy.unspecified_confidence === 'allow') return `coalesce(${a}.confidence >= ${floor}, true)`;
    // Without confidence an object may take a default from its creator, else from the
    // collection, for the decision only (it is never written into the object).
    return `(${floor} is null or coalesce(coalesce(${a}.confidence, (p.creators ->> ${a}.created_by_ref)::int, p.default_confidence) >= ${floor}, false))`;
  }

  private indicatorLimits(a: string): string {
    const limits = this.policy.indicators ?? {};
    const parts: string[] = [];
    if (limits.pattern_types) parts.push(`${a}.pattern_type = any(${textArray(limits.pattern_types)})`);
    if (limits.pattern_class === 'atomic') parts.push(`(${a}.pattern_type <> 'stix' or ${a}.pattern_class = 'atomic')`);
    if (limits.pattern_class === 'disjunctive') parts.push(`(${a}.pattern_type <> 'stix' or ${a}.pattern_class in ('atomic', 'disjunctive'))`);
    if (limits.observable_types) {
      const types = limits.observable_types.filter((o) => !o.includes(':'));
      const paths = limits.observable_types.filter((o) => o.includes(':'));
      parts.push(`(${a}.pattern_type <> 'stix' or taxii_observables_allowed(${a}.observable_paths, ${textArray(types)}, ${textArray(paths)}))`);
    }
    if (limits.denied_indicator_types && limits.denied_indicator_types.length > 0) {
      parts.push(`not coalesce(${a}.indicator_types && ${textArray(limits.denied_indicator_types)}, false)`);
    }
    return parts.length === 0 ? 'true' : or(`${a}.stix_type <> 'indicator'`, and(...parts));
  }

  private typeAllowed(a: string): string {
    const listed = this.explicitTypes.map(([type]) => type);
    const { all_stix_types: stix, custom_types: custom } = this.policy;
    if (stix && custom) return 'true';
    const parts: string[] = [];
    if (listed.length > 0) parts.push(`${a}.stix_type = any(${textArray(listed)})`);
    if (stix) parts.push(`${a}.stix_type = any(${textArray(STIX_TYPES)})`);
    if (custom) parts.push(`${a}.stix_type <> all(${textArray(STIX_TYPES)})`);
    return or(...parts);
  }

  /** The type is allowed and its rule holds (confidence floor, indicator limits, relationship types). */
  relevant(a: string): string {
    const relationshipTypes = typeRule(this.policy, 'relationship')?.relationship_types;
    return and(
      this.typeAllowed(a),
      this.confidenceOk(a),
      relationshipTypes ? or(`${a}.stix_type <> 'relationship'`, `${a}.relationship_type = any(${textArray(relationshipTypes)})`) : 'true',
      typeRule(this.policy, 'indicator') ? this.indicatorLimits(a) : 'true',
    );
  }

  passes(a: string): string {
    return and(this.authorised(a), this.relevant(a));
  }

  retracted(a: string): string {
    return `(${a}.revoked or coalesce(${a}.valid_until <= p.now_us, false))`;
  }

  /** Whether a latest version makes its object visible, before graph rules (rules 3 and 4). */
  visibleLatest(a: string): string {
    switch (this.policy.revoked_expired) {
      case 'include':
        return this.passes(a);
      case 'exclude':
        return and(`not ${this.retracted(a)}`, this.passes(a));
      case 'retractions': {
        const e = this.alias('e');
        // A retraction reaches everyone who could have seen an earlier version.
        const earlierVisible = `exists (select 1 from object_versions ${e}
          where ${e}.collection_id = ${a}.collection_id and ${e}.stix_id = ${a}.stix_id
            and ${e}.cseq <> ${a}.cseq and ${e}.in_max_spec and ${this.passes(e)})`;
        return or(and(`not ${this.retracted(a)}`, this.passes(a)), and(this.retracted(a), this.authorised(a), earlierVisible));
      }
    }
  }

  private refsAuthorised(refs: string): string {
    const y = this.alias('y');
    return `not exists (select 1 from object_versions ${y}
      where ${y}.collection_id = p.collection_id and ${y}.stix_id = any(${refs}) and ${y}.is_latest
        and not ${this.authorised(y)})`;
  }

  private containerOk(a: string): string {
    return or(`${a}.stix_type <> all(${textArray(CONTAINER_TYPES)})`, this.refsAuthorised(`${a}.dep_refs`));
  }

  private endpointVisible(ref: string): string {
    const x = this.alias('x');
    return `exists (select 1 from object_versions ${x}
      where ${x}.collection_id = p.collection_id and ${x}.stix_id = ${ref} and ${x}.is_latest
        and ${this.visibleLatest(x)} and ${this.containerOk(x)})`;
  }

  /** Rule 5 for a latest version: the graph stays closed. */
  graphOk(a: string): string {
    return `(case
      when ${a}.stix_type = 'relationship' then ${and(this.endpointVisible(`${a}.source_ref`), this.endpointVisible(`${a}.target_ref`))}
      when ${a}.stix_type = 'sighting' then ${and(this.endpointVisible(`${a}.source_ref`), this.refsAuthorised(`${a}.dep_refs`))}
      when ${a}.stix_type = any(${textArray(CONTAINER_TYPES)}) then ${this.refsAuthorised(`${a}.dep_refs`)}
      else true end)`;
  }

  private closureType(a: string): string {
    return `${a}.stix_type = any(${textArray(CLOSURE_TYPES)})`;
  }

  /**
   * Closure (rule 5): a definition or creator identity referenced by an object
   * the reader sees (its latest version visible, its graph closed), when
   * authorised itself.
   */
  closureVisible(a: string): string {
    if (!this.policy.closure) return 'false';
    const z = this.alias('z');
    return and(
      this.closureType(a),
      this.authorised(a),
      `exists (select 1 from object_refs ${z}r join object_versions ${z} on ${z}.collection_id = ${z}r.collection_id and ${z}.cseq = ${z}r.cseq
        where ${z}r.collection_id = p.collection_id and ${z}r.ref = ${a}.stix_id and ${z}r.kind = 'c'
          and ${z}.is_latest and ${this.visibleLatest(z)} and ${this.graphOk(z)})`,
    );
  }

  objectVisible(a: string): string {
    return or(and(this.visibleLatest(a), this.graphOk(a)), this.closureVisible(a));
  }

  versionVisible(a: string): string {
    const l = this.alias('l');
    const historicalOk = this.policy.closure ? or(this.passes(a), and(this.closureType(a), this.authorised(a))) : this.passes(a);
    return `(case when ${a}.is_latest then ${this.objectVisible(a)}
      else ${and(
        `exists (select 1 from object_versions ${l}
          where ${l}.collection_id = ${a}.collection_id and ${l}.stix_id = ${a}.stix_id and ${l}.is_latest
            and ${this.objectVisible(l)})`,
        historicalOk,
      )} end)`;
  }
}
