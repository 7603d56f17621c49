import { TAXII, type TestApp } from './test-app.js';

/** One record of a manifest (TAXII §5.3.1). */
export interface ManifestRecord {
  id: string;
  date_added: string;
  version: string;
  media_type: string;
}

/**
 * Every item of a paged GET (objects, manifest or versions), following `more` and
 * `next` to the end. Any status other than 200 is an error that shows the body.
 */
export async function readAllPages<T>(
  t: TestApp,
  authorization: string,
  path: string,
  query: Record<string, string>,
  key: 'objects' | 'versions' = 'objects',
): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined;
  for (let page = 0; page < 100_000; page++) {
    const params = new URLSearchParams(next === undefined ? query : { ...query, next });
    const res = await t.http.get(`${path}?${params.toString()}`).set('Authorization', authorization).set('Accept', TAXII);
    if (res.status !== 200) throw new Error(`GET ${path}?${params.toString()} answered ${res.status}: ${res.text}`);
    const body = JSON.parse(res.text) as { more?: boolean; next?: string } & Partial<Record<typeof key, T[]>>;
    items.push(...(body[key] ?? []));
    if (body.more !== true) return items;
    if (typeof body.next !== 'string') throw new Error(`GET ${path}: more without next`);
    next = body.next;
  }
  throw new Error(`GET ${path}: more than 100,000 pages`);
}

/** One entry of a status resource's successes, failures or pendings (TAXII §4.3.1). */
export interface StatusDetail {
  id: string;
  version: string;
  message?: string;
}

/** The status resource (TAXII §4.3.1) as the tests read it. */
export interface StatusResource {
  id: string;
  status: string;
  total_count: number;
  success_count: number;
  failure_count: number;
  pending_count: number;
  successes?: StatusDetail[];
  failures?: StatusDetail[];
  pendings?: StatusDetail[];
}
