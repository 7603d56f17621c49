/**
 * Which stored versions of one object the version filters pick by default
 * (TAXII §3.4.1): only versions of the object's highest spec_version count
 * (match[spec_version] defaults to the latest the server can provide), and
 * among those `last` is the newest and `first` the oldest version.
 */
export interface VersionRef {
  specVersion: string;
  versionKey: string;
}

export interface SelectionFlags {
  inMaxSpec: boolean;
  isLatest: boolean;
  isFirst: boolean;
}

export function compareSpecVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

export function selectionFlags(versions: readonly VersionRef[]): SelectionFlags[] {
  let maxSpec: string | undefined;
  for (const v of versions) if (maxSpec === undefined || compareSpecVersions(v.specVersion, maxSpec) > 0) maxSpec = v.specVersion;
  let newest: string | undefined;
  let oldest: string | undefined;
  for (const v of versions) {
    if (v.specVersion !== maxSpec) continue;
    if (newest === undefined || v.versionKey > newest) newest = v.versionKey;
    if (oldest === undefined || v.versionKey < oldest) oldest = v.versionKey;
  }
  return versions.map((v) => {
    const inMaxSpec = v.specVersion === maxSpec;
    return { inMaxSpec, isLatest: inMaxSpec && v.versionKey === newest, isFirst: inMaxSpec && v.versionKey === oldest };
  });
}
