import { v4 as uuidv4 } from 'uuid';
import type { Principal } from '../auth/authenticate.js';
import type { CollectionAccess } from '../db/catalog.js';
import type { Db } from '../db/database.js';
import { analyzeSoon } from '../db/maintenance.js';
import { storeVersions, type NewVersion } from '../db/object-store.js';
import { insertStatus } from '../db/status-store.js';
import { analyseStixObject } from '../stix/analyse.js';
import type { StixSpecVersion, StixValidator } from '../stix/validate.js';
import { readEnvelope, type EnvelopeLimits } from '../taxii/envelope.js';
import type { PostBodyKind } from '../taxii/media-types.js';
import type { StatusDetail, StatusInfo } from '../taxii/resources.js';
import { storableText } from '../taxii/text.js';
import { stixVersionKey } from '../taxii/timestamps.js';
import { recordWrite, writerOf, type Writer } from './delivery-audit.js';
import type { ServiceMetrics } from './metrics.js';

/**
 * Add Objects (TAXII §5.5). Each object is validated on its own; the valid ones
 * are stored in one transaction together with the status resource, so the
 * status always describes what is really in the database. Invalid objects are
 * listed as failures with the reasons; a repeated id and version is a success
 * that stores nothing (the first stored copy stays).
 */
export interface AddDeps {
  db: Db;
  validator: StixValidator;
  limits: EnvelopeLimits;
  metrics?: ServiceMetrics;
}

/** Validation is CPU work; yield to the event loop now and then so other requests keep flowing. */
const YIELD_EVERY = 500;

export function acceptedSpecVersions(mediaTypes: readonly string[]): Set<StixSpecVersion> {
  const accepted = new Set<StixSpecVersion>();
  for (const mediaType of mediaTypes) {
    const match = /^application\/stix\+json(?:\s*;\s*version\s*=\s*"?([\d.]+)"?)?\s*$/i.exec(mediaType.trim());
    if (!match) continue;
    const version = match[1];
    if (version === undefined || version === '2.1') accepted.add('2.1');
    if (version === undefined || version === '2.0') accepted.add('2.0');
  }
  return accepted;
}

function describe(object: unknown, index: number): StatusDetail {
  const record = object !== null && typeof object === 'object' && !Array.isArray(object) ? (object as Record<string, unknown>) : {};
  const id = typeof record.id === 'string' && record.id.length <= 300 ? record.id : `objects[${index}]`;
  const version =
    typeof record.modified === 'string' ? record.modified : typeof record.created === 'string' ? record.created : 'unknown';
  // The status is stored as JSON: U+0000 and unpaired surrogates of a hostile id or version cannot be.
  return { id: storableText(id), version: version.length <= 100 ? storableText(version) : 'unknown' };
}

/** The STIX properties behind the indexed columns of StixAnalysis, for messages. */
const INDEXED = 'created_by_ref, pattern_type, pattern, indicator_types, relationship_type, source_ref, target_ref or a reference';

/** An indexed string holding U+0000, which a PostgreSQL text column cannot store (the object body, JSON text, can). */
function unstorableAnalysis(analysis: ReturnType<typeof analyseStixObject>): boolean {
  const nul = (v: unknown) => typeof v === 'string' && v.includes('\u0000');
  return Object.values(analysis).some((v) => nul(v) || (Array.isArray(v) && v.some(nul)));
}

/** What happened to each object of a submission, by its position. */
export type ObjectOutcome = { index: number; outcome: 'stored' | 'duplicate' } | { index: number; outcome: 'failed'; message: string };

export interface SubmissionResult {
  status: StatusInfo;
  outcomes: ObjectOutcome[];
}

/** Add Objects for an HTTP body: reads the envelope (or bundle), then adds its objects. */
export async function addObjects(
  deps: AddDeps,
  collection: CollectionAccess,
  principal: Principal,
  body: Buffer,
  kind: PostBodyKind,
  requestTimestamp: number,
  request?: { ip: string; id: string },
): Promise<StatusInfo> {
  const objects = readEnvelope(body, kind, deps.limits);
  return (await addObjectList(deps, collection, principal.accountId, objects, requestTimestamp, writerOf(principal, request))).status;
}

/**
 * Validates each object on its own, stores the valid ones and records the
 * status in one transaction. Shared by TAXII POST and the command line's
 * import (which acts for no account: its statuses carry none, so no client
 * can read them).
 */
export async function addObjectList(
  deps: AddDeps,
  collection: CollectionAccess,
  accountId: string | null,
  objects: readonly unknown[],
  requestTimestamp: number,
  /** Who writes, for the durable write log (services/delivery-audit.ts); nothing is logged without one. */
  writer?: Writer,
): Promise<SubmissionResult> {
  const acceptSpecVersions = acceptedSpecVersions(collection.mediaTypes);

  const failures: StatusDetail[] = [];
  const outcomes: ObjectOutcome[] = [];
  const candidates: { index: number; version: NewVersion; message: string | undefined }[] = [];
  for (let i = 0; i < objects.length; i++) {
    if (i > 0 && i % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    const object = objects[i];
    const result = deps.validator.validate(object, { acceptSpecVersions });
    if (!result.valid) {
      const message = storableText(result.errors.join('; '));
      failures.push({ ...describe(object, i), message });
      outcomes.push({ index: i, outcome: 'failed', message });
      continue;
    }
    const record = object as Record<string, unknown>;
    const analysis = analyseStixObject(record);
    if (unstorableAnalysis(analysis)) {
      const message = `An indexed property (${INDEXED}) holds the character U+0000 (NUL), which cannot be stored.`;
      failures.push({ ...describe(object, i), message });
      outcomes.push({ index: i, outcome: 'failed', message });
      continue;
    }
    const version = typeof record.modified === 'string' ? record.modified : typeof record.created === 'string' ? record.created : undefined;
    candidates.push({
      index: i,
      version: {
        stixId: record.id as string,
        stixType: record.type as string,
        specVersion: result.specVersion ?? '2.1',
        version,
        versionKey: version === undefined ? undefined : stixVersionKey(version),
        body: JSON.stringify(object),
        analysis,
      },
      message: result.warnings.length > 0 ? storableText(`accepted with warnings: ${result.warnings.join('; ')}`) : undefined,
    });
  }

  const status: StatusInfo = {
    id: uuidv4(),
    status: 'complete',
    requestTimestamp,
    successes: [],
    failures,
    pendings: [],
  };
  let inserted = 0;
  await deps.db.transaction().execute(async (trx) => {
    const stored = candidates.length > 0 ? await storeVersions(trx, collection.id, candidates.map((c) => c.version)) : [];
    // Stored and already-present objects get the same entry: a status never
    // tells a writer whether an id already existed (maturity-design rule 9).
    status.successes = stored.map((outcome, i) => {
      const { version, message } = candidates[i]!;
      return { id: version.stixId, version: outcome.version, ...(message ? { message } : {}) };
    });
    await insertStatus(trx, { ...status, apiRootId: collection.apiRootId, collectionId: collection.id, accountId });
    if (writer) {
      await recordWrite(trx, writer, collection, {
        action: 'add',
        statusId: status.id,
        ids: candidates.map((c) => c.version.stixId),
        versions: stored.map((outcome) => outcome.version),
        stored: stored.map((outcome) => outcome.inserted),
        failureCount: failures.length,
      });
    }
    stored.forEach((outcome, i) => outcomes.push({ index: candidates[i]!.index, outcome: outcome.inserted ? 'stored' : 'duplicate' }));
    inserted = stored.filter((outcome) => outcome.inserted).length;
  });
  if (inserted > 0) analyzeSoon(deps.db);
  deps.metrics?.objectsIngested('stored', inserted);
  deps.metrics?.objectsIngested('duplicate', candidates.length - inserted);
  deps.metrics?.objectsIngested('failed', failures.length);
  outcomes.sort((a, b) => a.index - b.index);
  return { status, outcomes };
}
