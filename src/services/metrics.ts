import type { ReadKind } from './read-objects.js';

/**
 * What the services report to the metrics. The services only see this
 * interface; the Prometheus implementation lives in src/plugins/metrics.ts.
 */
export type IngestOutcome = 'stored' | 'duplicate' | 'failed';

export interface ServiceMetrics {
  /** Objects of Add Objects requests, once their transaction has committed. */
  objectsIngested(outcome: IngestOutcome, count: number): void;
  /** Records of a page sent to a reader: objects, manifest entries or versions. */
  objectsServed(endpoint: ReadKind, count: number): void;
}

export const noMetrics: ServiceMetrics = {
  objectsIngested() {},
  objectsServed() {},
};
