import { v4 as uuidv4 } from 'uuid';

/** Small builders of valid STIX 2.1 objects for tests. */
export type StixObject = Record<string, unknown> & { type: string; id: string };

export const TLP = {
  white: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
  clear2: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  green2: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  amber2: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  amberStrict2: 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  red2: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
} as const;

export const T0 = '2025-01-01T00:00:00.000Z';

export function ts(offsetSeconds: number): string {
  return new Date(Date.parse(T0) + offsetSeconds * 1000).toISOString();
}

export function indicator(props: Partial<StixObject> = {}): StixObject {
  const created = (props.created as string | undefined) ?? T0;
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${uuidv4()}`,
    created,
    modified: created,
    name: 'Malicious IP',
    pattern: "[ipv4-addr:value = '198.51.100.1']",
    pattern_type: 'stix',
    valid_from: created,
    ...props,
  } as StixObject;
}

export function malware(props: Partial<StixObject> = {}): StixObject {
  return {
    type: 'malware',
    spec_version: '2.1',
    id: `malware--${uuidv4()}`,
    created: T0,
    modified: T0,
    name: 'Poison Ivy',
    is_family: true,
    ...props,
  } as StixObject;
}

export function relationship(source: string, target: string, props: Partial<StixObject> = {}): StixObject {
  return {
    type: 'relationship',
    spec_version: '2.1',
    id: `relationship--${uuidv4()}`,
    created: T0,
    modified: T0,
    relationship_type: 'indicates',
    source_ref: source,
    target_ref: target,
    ...props,
  } as StixObject;
}

export function ipv4(value: string): StixObject {
  return { type: 'ipv4-addr', spec_version: '2.1', id: `ipv4-addr--${uuidv4()}`, value };
}

/** A new version of an object: same id, later modified, with changes. */
export function revise(object: StixObject, modified: string, changes: Partial<StixObject> = {}): StixObject {
  return { ...object, modified, ...changes } as StixObject;
}

export function envelope(objects: unknown[]): string {
  return JSON.stringify({ objects });
}
