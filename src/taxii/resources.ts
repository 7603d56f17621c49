import { STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE } from './media-types.js';
import { formatTaxiiTimestamp } from './timestamps.js';

/**
 * Builders of TAXII resources (TAXII §4, §5) as JSON text. Lists are omitted
 * rather than sent empty (TAXII §2: a list is never empty). Stored STIX objects
 * are spliced in as the exact text that was stored, never parsed again.
 */

function pagePrefix(more: boolean, next: string | undefined): string {
  return next === undefined ? `{"more":${more}` : `{"more":${more},"next":${JSON.stringify(next)}`;
}

export function envelopeJson(bodies: readonly string[], more: boolean, next: string | undefined): string {
  const head = pagePrefix(more, next);
  return bodies.length === 0 ? `${head}}` : `${head},"objects":[${bodies.join(',')}]}`;
}

export interface ManifestEntry {
  id: string;
  dateAdded: number;
  version: string;
  specVersion: string;
}

export function manifestJson(entries: readonly ManifestEntry[], more: boolean, next: string | undefined): string {
  const head = pagePrefix(more, next);
  if (entries.length === 0) return `${head}}`;
  const records = entries.map((e) =>
    JSON.stringify({
      id: e.id,
      date_added: formatTaxiiTimestamp(e.dateAdded),
      version: e.version,
      media_type: e.specVersion === '2.1' ? STIX_MEDIA_TYPE : `application/stix+json;version=${e.specVersion}`,
    }),
  );
  return `${head},"objects":[${records.join(',')}]}`;
}

export function versionsJson(versions: readonly string[], more: boolean, next: string | undefined): string {
  const head = pagePrefix(more, next);
  return versions.length === 0 ? `${head}}` : `${head},"versions":${JSON.stringify(versions)}}`;
}

/** X-TAXII-Date-Added-First/Last (TAXII §3.2); absent on an empty page (interop rule 5). */
export function dateAddedHeaders(dates: readonly number[]): Record<string, string> {
  if (dates.length === 0) return {};
  return {
    'X-TAXII-Date-Added-First': formatTaxiiTimestamp(dates[0]!),
    'X-TAXII-Date-Added-Last': formatTaxiiTimestamp(dates[dates.length - 1]!),
  };
}

export interface DiscoveryInfo {
  title: string;
  description?: string | undefined;
  contact?: string | undefined;
  default?: string | undefined;
  apiRoots: string[];
}

export function discoveryResource(info: DiscoveryInfo): Record<string, unknown> {
  return withoutUndefined({
    title: info.title,
    description: info.description,
    contact: info.contact,
    default: info.default,
    api_roots: info.apiRoots.length > 0 ? info.apiRoots : undefined,
  });
}

export function apiRootResource(root: { title: string; description: string | null; maxContentLength: number }) {
  return withoutUndefined({
    title: root.title,
    description: root.description ?? undefined,
    versions: [TAXII_MEDIA_TYPE],
    max_content_length: root.maxContentLength,
  });
}

export function withoutUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function collectionResource(c: {
  id: string; title: string; description: string | null; alias: string | null;
  canRead: boolean; canWrite: boolean; mediaTypes: string[];
}, extra: Record<string, unknown> = {}) {
  return withoutUndefined({
    id: c.id,
    title: c.title,
    description: c.description ?? undefined,
    alias: c.alias ?? undefined,
    can_read: c.canRead,
    can_write: c.canWrite,
    media_types: c.mediaTypes.length > 0 ? c.mediaTypes : undefined,
    ...extra,
  });
}

export interface StatusDetail {
  id: string;
  version: string;
  message?: string;
}

export interface StatusInfo {
  id: string;
  status: 'pending' | 'complete';
  requestTimestamp: number;
  successes: StatusDetail[];
  failures: StatusDetail[];
  pendings: StatusDetail[];
}

/** The status resource (TAXII §4.3.1); total = success + failure + pending by construction. */
export function statusResource(s: StatusInfo) {
  return withoutUndefined({
    id: s.id,
    status: s.status,
    request_timestamp: formatTaxiiTimestamp(s.requestTimestamp),
    total_count: s.successes.length + s.failures.length + s.pendings.length,
    success_count: s.successes.length,
    successes: s.successes.length > 0 ? s.successes : undefined,
    failure_count: s.failures.length,
    failures: s.failures.length > 0 ? s.failures : undefined,
    pending_count: s.pendings.length,
    pendings: s.pendings.length > 0 ? s.pendings : undefined,
  });
}
