import { sql, type RawBuilder } from 'kysely';
import { CLOSURE_TYPES, CONTAINER_TYPES } from '../stix/analyse.js';
import { tlpRank } from '../stix/tlp.js';
import { STIX_TYPES, typeRule, type Policy, type TypeRule } from './policy.js';

/**
 * Compiles an effective policy into SQL predicates over object_versions rows
 * (maturity-design.md rule 2: the view is filtered in the database, so limit,
 * next and keyset paging stay exact). Each method returns a fragment for a
 * table alias; subqueries get aliases of their own.
 *
 * Vocabulary (the design's rules):
 * - authorised: within the TLP ceiling (unmarked: the collection default), or granted;
 * - relevant: the type, its confidence floor and the indicator limits allow it;
 * - passes: authorised and relevant, judged on the version alone;
 * - visible latest: the latest version decides, with retractions (rules 3, 4);
 * - graph: relationship and sighting endpoints visible, container refs authorised (rule 5);
 * - closure: markings, extension definitions and creator identities of visible objects (rule 5).
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

type Sql = RawBuilder<unknown>;
const TRUE = sql`true`;
const FALSE = sql`false`;
const and = (...parts: Sql[]) => (parts.length === 0 ? TRUE : parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` and `)})`);
const or = (...parts: Sql[]) => (parts.length === 0 ? FALSE : parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` or `)})`);
const textArray = (values: readonly string[]) => sql`${[...values]}::text[]`;

export class ViewSql {
  private aliasCounter = 0;
  private readonly ceiling: number;
  private readonly explicitTypes: [string, TypeRule][];

  constructor(readonly policy: Policy, readonly params: ViewParams) {
    this.ceiling = tlpRank(policy.tlp_ceiling);
    this.explicitTypes = Object.entries(policy.types);
    const indicatorRule = typeRule(policy, 'indicator');
    if (indicatorRule && !policy.types.indicator) this.explicitTypes.push(['indicator', indicatorRule]);
  }

  private alias(prefix: string) {
    return sql.ref(`${prefix}${++this.aliasCounter}`);
  }

  authorised(a: Sql): Sql {
    const withinCeiling = sql`coalesce(${a}.tlp, ${this.params.defaultTlp}::int) <= ${this.ceiling}::int`;
    if (this.params.grantedIds.length === 0) return withinCeiling;
    return or(withinCeiling, sql`${a}.stix_id = any(${textArray(this.params.grantedIds)})`);
  }

  /** Inclusive confidence floors by type (types without a floor are absent). */
  private floors(): Record<string, number> {
    const floors: Record<string, number> = {};
    for (const [type, rule] of this.explicitTypes) if (rule.min_confidence !== undefined) floors[type] = rule.min_confidence;
    return floors;
  }

  private confidenceOk(a: Sql): Sql {
    const floors = this.floors();
    if (Object.keys(floors).length === 0) return TRUE;
    const floor = sql`(${JSON.stringify(floors)}::jsonb ->> ${a}.stix_type)::int`;
    if (this.policy.unspecified_confidence === 'allow') return sql`coalesce(${a}.confidence >= ${floor}, true)`;
    // Without confidence an object may take a default from its creator, else from the
    // collection, for the decision only (it is never written into the object).
    const creators = JSON.stringify(this.params.creatorConfidence);
    return sql`(${floor} is null or coalesce(coalesce(${a}.confidence, (${creators}::jsonb ->> ${a}.created_by_ref)::int,
      ${this.params.defaultConfidence}::int) >= ${floor}, false))`;
  }

  private indicatorLimits(a: Sql): Sql {
    const limits = this.policy.indicators ?? {};
    const parts: Sql[] = [];
    if (limits.pattern_types) parts.push(sql`${a}.pattern_type = any(${textArray(limits.pattern_types)})`);
    if (limits.pattern_class === 'atomic') parts.push(sql`(${a}.pattern_type <> 'stix' or ${a}.pattern_class = 'atomic')`);
    if (limits.pattern_class === 'disjunctive') {
      parts.push(sql`(${a}.pattern_type <> 'stix' or ${a}.pattern_class in ('atomic', 'disjunctive'))`);
    }
    if (limits.observable_types) {
      const types = limits.observable_types.filter((o) => !o.includes(':'));
      const paths = limits.observable_types.filter((o) => o.includes(':'));
      parts.push(sql`(${a}.pattern_type <> 'stix' or taxii_observables_allowed(${a}.observable_paths, ${textArray(types)}, ${textArray(paths)}))`);
    }
    if (limits.denied_indicator_types && limits.denied_indicator_types.length > 0) {
      parts.push(sql`not coalesce(${a}.indicator_types && ${textArray(limits.denied_indicator_types)}, false)`);
    }
    return parts.length === 0 ? TRUE : or(sql`${a}.stix_type <> 'indicator'`, and(...parts));
  }

  private typeAllowed(a: Sql): Sql {
    const listed = this.explicitTypes.map(([type]) => type);
    const { all_stix_types: stix, custom_types: custom } = this.policy;
    if (stix && custom) return TRUE;
    const parts: Sql[] = [];
    if (listed.length > 0) parts.push(sql`${a}.stix_type = any(${textArray(listed)})`);
    if (stix) parts.push(sql`${a}.stix_type = any(${textArray(STIX_TYPES)})`);
    if (custom) parts.push(sql`${a}.stix_type <> all(${textArray(STIX_TYPES)})`);
    return or(...parts);
  }

  /** The type is allowed and its rule holds (confidence floor, indicator limits, relationship types). */
  relevant(a: Sql): Sql {
    const relationshipTypes = typeRule(this.policy, 'relationship')?.relationship_types;
    return and(
      this.typeAllowed(a),
      this.confidenceOk(a),
      relationshipTypes ? or(sql`${a}.stix_type <> 'relationship'`, sql`${a}.relationship_type = any(${textArray(relationshipTypes)})`) : TRUE,
      typeRule(this.policy, 'indicator') ? this.indicatorLimits(a) : TRUE,
    );
  }

  passes(a: Sql): Sql {
    return and(this.authorised(a), this.relevant(a));
  }

  retracted(a: Sql): Sql {
    return sql`(${a}.revoked or coalesce(${a}.valid_until <= ${this.params.nowUs}::int8, false))`;
  }

  /** Whether a latest version makes its object visible, before graph rules (rules 3 and 4). */
  visibleLatest(a: Sql): Sql {
    switch (this.policy.revoked_expired) {
      case 'include':
        return this.passes(a);
      case 'exclude':
        return and(sql`not ${this.retracted(a)}`, this.passes(a));
      case 'retractions': {
        const e = this.alias('e');
        // A retraction reaches everyone who could have seen an earlier version.
        const earlierVisible = sql`exists (select 1 from object_versions ${e}
          where ${e}.collection_id = ${a}.collection_id and ${e}.stix_id = ${a}.stix_id
            and ${e}.cseq <> ${a}.cseq and ${e}.in_max_spec and ${this.passes(e)})`;
        return or(
          and(sql`not ${this.retracted(a)}`, this.passes(a)),
          and(this.retracted(a), this.authorised(a), earlierVisible),
        );
      }
    }
  }

  private refsAuthorised(refs: Sql): Sql {
    const y = this.alias('y');
    return sql`not exists (select 1 from object_versions ${y}
      where ${y}.collection_id = ${this.params.collectionId} and ${y}.stix_id = any(${refs}) and ${y}.is_latest
        and not ${this.authorised(y)})`;
  }

  private containerOk(a: Sql): Sql {
    return or(sql`${a}.stix_type <> all(${textArray(CONTAINER_TYPES)})`, this.refsAuthorised(sql`${a}.dep_refs`));
  }

  private endpointVisible(ref: Sql): Sql {
    const x = this.alias('x');
    return sql`exists (select 1 from object_versions ${x}
      where ${x}.collection_id = ${this.params.collectionId} and ${x}.stix_id = ${ref} and ${x}.is_latest
        and ${this.visibleLatest(x)} and ${this.containerOk(x)})`;
  }

  /** Rule 5 for a latest version: the graph stays closed. */
  graphOk(a: Sql): Sql {
    return sql`(case
      when ${a}.stix_type = 'relationship' then ${and(this.endpointVisible(sql`${a}.source_ref`), this.endpointVisible(sql`${a}.target_ref`))}
      when ${a}.stix_type = 'sighting' then ${and(this.endpointVisible(sql`${a}.source_ref`), this.refsAuthorised(sql`${a}.dep_refs`))}
      when ${a}.stix_type = any(${textArray(CONTAINER_TYPES)}) then ${this.refsAuthorised(sql`${a}.dep_refs`)}
      else true end)`;
  }

  private closureType(a: Sql): Sql {
    return sql`${a}.stix_type = any(${textArray(CLOSURE_TYPES)})`;
  }

  /** Closure (rule 5): a definition or creator identity referenced by a visible object, when authorised. */
  closureVisible(a: Sql): Sql {
    if (!this.policy.closure) return FALSE;
    const z = this.alias('z');
    return and(
      this.closureType(a),
      this.authorised(a),
      sql`exists (select 1 from object_versions ${z}
        where ${z}.collection_id = ${this.params.collectionId} and ${z}.is_latest
          and ${z}.closure_refs @> array[${a}.stix_id]
          and ${this.visibleLatest(z)} and ${this.graphOk(z)})`,
    );
  }

  /** Whether the object of a latest version is visible. */
  objectVisible(a: Sql): Sql {
    return or(and(this.visibleLatest(a), this.graphOk(a)), this.closureVisible(a));
  }

  /** Whether a version (latest or not) is served: its object is visible and a historical version passes on its own. */
  versionVisible(a: Sql): Sql {
    const l = this.alias('l');
    const historicalOk = this.policy.closure ? or(this.passes(a), and(this.closureType(a), this.authorised(a))) : this.passes(a);
    return sql`(case when ${a}.is_latest then ${this.objectVisible(a)}
      else ${and(
        sql`exists (select 1 from object_versions ${l}
          where ${l}.collection_id = ${a}.collection_id and ${l}.stix_id = ${a}.stix_id and ${l}.is_latest
            and ${this.objectVisible(l)})`,
        historicalOk,
      )} end)`;
  }
}
