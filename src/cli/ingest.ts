import type { CollectionAccess } from '../db/catalog.js';
import { addObjectList, type AddDeps } from '../services/add-objects.js';
import type { StixValidator } from '../stix/validate.js';
import { jsonDepthExceeds } from '../taxii/envelope.js';

/**
 * Stores a batch of objects read by `taxii-hub import` through the same path
 * as a TAXII POST (addObjectList: per-object validation against the
 * collection's media types, storing, the status resource, one transaction).
 * The command line acts for no account, so its status resources are readable
 * by no client and expire as any other.
 */
export interface BatchFailure {
  /** Index of the object in the batch. */
  index: number;
  message: string;
}

export interface BatchOutcome {
  stored: number;
  alreadyPresent: number;
  failures: BatchFailure[];
}

export interface IngestDeps {
  db: AddDeps['db'];
  validator: StixValidator;
  limits: AddDeps['limits'];
  /** The audit actor of the import. */
  actor: string;
}

export async function ingestBatch(deps: IngestDeps, collection: CollectionAccess, objects: readonly unknown[]): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { stored: 0, alreadyPresent: 0, failures: [] };
  // An object nested deeper than a POST would accept is refused on its own, as the
  // envelope holding it would be (TAXII POST reads bodies with the same limit).
  const accepted: { index: number; object: unknown }[] = [];
  objects.forEach((object, index) => {
    if (jsonDepthExceeds(JSON.stringify(object) ?? 'null', deps.limits.maxJsonDepth - 2)) {
      outcome.failures.push({ index, message: `the object is nested deeper than ${deps.limits.maxJsonDepth} levels` });
    } else {
      accepted.push({ index, object });
    }
  });
  if (accepted.length === 0) return outcome;
  const writer = { actor: deps.actor, accountId: null, organisationId: null };
  const { outcomes } = await addObjectList(deps, collection, null, accepted.map((a) => a.object), Date.now() * 1000, writer);
  for (const o of outcomes) {
    const index = accepted[o.index]!.index;
    if (o.outcome === 'failed') outcome.failures.push({ index, message: o.message });
    else if (o.outcome === 'stored') outcome.stored++;
    else outcome.alreadyPresent++;
  }
  outcome.failures.sort((a, b) => a.index - b.index);
  return outcome;
}
