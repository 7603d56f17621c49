// Deterministic generator of realistic STIX 2.1 content for the benchmark.
//
// Everything comes from a seeded PRNG (sfc32 seeded by a string hash): the same seed and
// count give byte-identical objects on every machine. The mix follows what a sharing hub
// receives from its producers: mostly indicators (~60%) with STIX patterns on ipv4-addr,
// domain-name, url and file hashes (atomic, some disjunctive ORs, some complex AND /
// FOLLOWEDBY, a few snort/yara), 700-900 bytes each; malware, attack-pattern and
// course-of-action objects; relationships between generated objects; sightings; reports;
// SCOs; several versions for ~5% of ids; confidence uniform 0-100 with ~10% missing;
// TLP 1.0 and 2.0 markings with ~15% unmarked; created_by_ref to a handful of producers.
//
//   npx tsx bench/generate.ts --check [--count 20000] [--seed taxii-bench]
// validates every generated object with the server's own validator and prints the mix.

import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { uuidV5 } from '../src/stix/validation/deterministic-id.js';

export type StixObject = Record<string, unknown> & { type: string; id: string };

// ---------------------------------------------------------------------------------------
// PRNG

/** sfc32, seeded from a string through cyrb128: small, fast and good enough for test data. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string) {
    let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
    for (let i = 0; i < seed.length; i++) {
      const k = seed.charCodeAt(i);
      h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
      h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
      h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
      h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
    }
    h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
    h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
    h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
    h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
    this.a = (h1 ^ h2 ^ h3 ^ h4) >>> 0;
    this.b = (h2 ^ h1) >>> 0;
    this.c = (h3 ^ h1) >>> 0;
    this.d = (h4 ^ h1) >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** [0, 1) */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight: [[value, weight], ...]. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of entries) total += w;
    let r = this.next() * total;
    for (const [value, w] of entries) {
      r -= w;
      if (r < 0) return value;
    }
    return entries[entries.length - 1]![0];
  }

  /** Distinct items, order kept random. */
  sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < count && pool.length > 0) out.push(pool.splice(Math.floor(this.next() * pool.length), 1)[0]!);
    return out;
  }

  hex(length: number): string {
    let s = '';
    while (s.length < length) s += this.u32().toString(16).padStart(8, '0');
    return s.slice(0, length);
  }

  /** A random (version 4) UUID drawn from this generator. */
  uuid4(): string {
    const h = this.hex(32).split('');
    h[12] = '4';
    h[16] = '89ab'[parseInt(h[16]!, 16) & 3]!;
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
}

// ---------------------------------------------------------------------------------------
// Vocabulary

export const TLP1 = {
  white: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
} as const;
export const TLP2 = {
  clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  amberStrict: 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
} as const;
const TLP2_EXTENSION = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';
const TLP1_CREATED = '2017-01-20T00:00:00.000Z';

/** Marking choices: ~15% unmarked, the rest spread over TLP 1.0 and 2.0. */
const MARKINGS: readonly (readonly [string | null, number])[] = [
  [null, 15],
  [TLP1.white, 11], [TLP2.clear, 11],
  [TLP1.green, 15], [TLP2.green, 15],
  [TLP1.amber, 10], [TLP2.amber, 10],
  [TLP2.amberStrict, 6],
  [TLP1.red, 3], [TLP2.red, 4],
];

const MALWARE_FAMILIES = [
  'Emotet', 'TrickBot', 'QakBot', 'IcedID', 'Dridex', 'Ursnif', 'AgentTesla', 'Formbook', 'RedLine Stealer', 'Raccoon Stealer',
  'Vidar', 'SmokeLoader', 'AsyncRAT', 'Remcos', 'njRAT', 'PlugX', 'ShadowPad', 'Cobalt Strike', 'Sliver', 'Brute Ratel',
  'LockBit', 'BlackCat', 'Conti', 'Royal', 'Akira', 'Play', 'BlackBasta', 'Hive', 'Clop', 'Rhysida', 'GootLoader', 'Bumblebee',
  'Pikabot', 'DarkGate', 'Lumma Stealer', 'SystemBC', 'NetSupport RAT', 'Havoc', 'Mythic', 'XWorm',
];
const MALWARE_TYPES = ['backdoor', 'bot', 'downloader', 'dropper', 'keylogger', 'ransomware', 'remote-access-trojan', 'spyware', 'trojan', 'worm'];
const INDICATOR_TYPES: readonly (readonly [string, number])[] = [
  ['malicious-activity', 70], ['compromised', 10], ['anomalous-activity', 8], ['attribution', 5], ['unknown', 5], ['benign', 2],
];
const PHASES = [
  'reconnaissance', 'resource-development', 'initial-access', 'execution', 'persistence', 'privilege-escalation',
  'defense-evasion', 'credential-access', 'discovery', 'lateral-movement', 'collection', 'command-and-control',
  'exfiltration', 'impact',
];
const TECHNIQUES = [
  ['T1566.001', 'Spearphishing Attachment'], ['T1566.002', 'Spearphishing Link'], ['T1059.001', 'PowerShell'],
  ['T1059.003', 'Windows Command Shell'], ['T1204.002', 'Malicious File'], ['T1547.001', 'Registry Run Keys'],
  ['T1055', 'Process Injection'], ['T1027', 'Obfuscated Files or Information'], ['T1071.001', 'Web Protocols'],
  ['T1105', 'Ingress Tool Transfer'], ['T1003.001', 'LSASS Memory'], ['T1021.001', 'Remote Desktop Protocol'],
  ['T1486', 'Data Encrypted for Impact'], ['T1490', 'Inhibit System Recovery'], ['T1567.002', 'Exfiltration to Cloud Storage'],
  ['T1190', 'Exploit Public-Facing Application'], ['T1133', 'External Remote Services'], ['T1078', 'Valid Accounts'],
  ['T1218.011', 'Rundll32'], ['T1053.005', 'Scheduled Task'],
] as const;
const REPORT_TYPES = ['threat-report', 'malware', 'campaign', 'attack-pattern', 'indicator', 'threat-actor', 'vulnerability'];
const LABELS = ['phishing', 'c2', 'loader', 'stealer', 'ransomware', 'botnet', 'scanning', 'exploit', 'credential-theft', 'infostealer', 'initial-access-broker', 'healthcare', 'finance', 'energy'];
const TLDS = ['com', 'net', 'org', 'info', 'xyz', 'top', 'online', 'site', 'ru', 'cn', 'io', 'biz', 'cc', 'shop', 'live'];
const WORDS = [
  'secure', 'update', 'cloud', 'login', 'portal', 'account', 'verify', 'mail', 'office', 'service', 'support', 'download',
  'cdn', 'static', 'invoice', 'billing', 'delivery', 'track', 'docs', 'share', 'files', 'sync', 'auth', 'sso', 'vpn',
  'health', 'clinic', 'med', 'pay', 'bank', 'wallet', 'crypto', 'market', 'news', 'media', 'stream', 'game', 'data',
];
const PATH_PARTS = ['wp-admin', 'wp-content', 'gate.php', 'panel', 'admin', 'api', 'v1', 'v2', 'upload', 'images', 'js', 'css', 'includes', 'login.php', 'index.php', 'dl', 'payload.bin', 'update.exe', 'invoice.zip', 'doc.iso'];
const FILE_NAMES = ['invoice', 'report', 'update', 'setup', 'scan', 'document', 'payment', 'order', 'statement', 'svchost', 'rundll', 'msupdate', 'chrome_update', 'readme'];
const FILE_EXTS = ['exe', 'dll', 'zip', 'iso', 'lnk', 'js', 'vbs', 'hta', 'docm', 'xlsm', 'one', 'msi', 'ps1', 'bat'];
const SOURCES = ['abuse.ch', 'urlhaus', 'threatfox', 'internal-sandbox', 'honeypot-network', 'partner-isac', 'osint-feed', 'incident-response'];
const SECTORS = ['healthcare', 'financial-services', 'government-national', 'energy', 'technology', 'education', 'manufacturing', 'telecommunications'];
const SENTENCES = [
  'Observed in phishing campaigns delivering malicious attachments to finance and healthcare staff.',
  'The infrastructure was active during the reporting period and resolved to hosting providers known for abuse.',
  'Associated with command-and-control traffic over HTTPS using a self-signed certificate.',
  'First reported by a member organisation after a sandbox detonation flagged the sample.',
  'Hosts a second-stage payload retrieved by a PowerShell downloader.',
  'Seen in incident response engagements following initial access through exposed remote services.',
  'Correlates with credential phishing pages imitating a popular webmail portal.',
  'The sample establishes persistence through a scheduled task and beacons every sixty seconds.',
  'Shared by a partner ISAC with a recommendation to block at the perimeter.',
  'Detected by network sensors on outbound connections from several endpoints.',
  'Linked to a ransomware affiliate based on overlapping infrastructure and tooling.',
  'Analysts consider the activity ongoing; expect rotation of domains within days.',
  'Derived from malware configuration extraction of recent samples.',
  'Blocking is low risk: no legitimate traffic to this destination was observed.',
];

const BASE_TIME = Date.parse('2024-01-01T00:00:00.000Z');

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

// ---------------------------------------------------------------------------------------
// Fixed reference objects (markings, extension definition, producers)

export function tlp1Markings(): StixObject[] {
  return (Object.entries(TLP1) as [keyof typeof TLP1, string][]).map(([level, id]) => ({
    type: 'marking-definition',
    spec_version: '2.1',
    id,
    created: TLP1_CREATED,
    definition_type: 'tlp',
    name: `TLP:${level.toUpperCase()}`,
    definition: { tlp: level },
  }));
}

export function tlp2Markings(): StixObject[] {
  const names: Record<keyof typeof TLP2, string> = { clear: 'clear', green: 'green', amber: 'amber', amberStrict: 'amber+strict', red: 'red' };
  return (Object.entries(TLP2) as [keyof typeof TLP2, string][]).map(([key, id]) => ({
    type: 'marking-definition',
    spec_version: '2.1',
    id,
    created: '2022-10-01T00:00:00.000Z',
    name: `TLP:${names[key].toUpperCase()}`,
    extensions: { [TLP2_EXTENSION]: { extension_type: 'property-extension', tlp_2_0: names[key] } },
  }));
}

function tlp2ExtensionDefinition(): StixObject {
  return {
    id: TLP2_EXTENSION,
    type: 'extension-definition',
    spec_version: '2.1',
    name: 'TLP 2.0',
    description: 'This defines TLP 2.0 as a STIX extension',
    created: '2022-10-01T00:00:00.000Z',
    modified: '2022-10-01T00:00:00.000Z',
    created_by_ref: 'identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01',
    schema: 'https://github.com/oasis-open/cti-stix-common-objects/tree/master/extension-definition-specifications/tlp-2.0',
    version: '1.0.0',
    extension_types: ['property-extension'],
  };
}

// ---------------------------------------------------------------------------------------
// The generator

export interface GeneratorOptions {
  /** Objects to produce, versions included. */
  count: number;
  seed?: string;
  /** Share of versionable ids that get 2-4 versions (default 0.05). */
  versionedShare?: number;
}

interface PendingVersion {
  due: number;
  object: StixObject;
  remaining: number;
}

const RING = 4000;

/** Bounded pools of recent ids per type, for references. */
class IdPool {
  private readonly ids: string[] = [];
  private next = 0;

  add(id: string): void {
    if (this.ids.length < RING) this.ids.push(id);
    else this.ids[this.next++ % RING] = id;
  }

  get size(): number {
    return this.ids.length;
  }

  pick(rng: Rng): string | undefined {
    return this.ids.length === 0 ? undefined : rng.pick(this.ids);
  }
}

export class StixGenerator {
  readonly rng: Rng;
  private readonly count: number;
  private readonly versionedShare: number;
  private readonly producers: StixObject[] = [];
  private readonly pools = new Map<string, IdPool>();
  private pending: PendingVersion[] = [];
  private emitted = 0;
  private clock = BASE_TIME;

  constructor(options: GeneratorOptions) {
    this.rng = new Rng(options.seed ?? 'taxii-bench');
    this.count = options.count;
    this.versionedShare = options.versionedShare ?? 0.05;
  }

  private pool(type: string): IdPool {
    let p = this.pools.get(type);
    if (!p) this.pools.set(type, (p = new IdPool()));
    return p;
  }

  /** Yields exactly `count` objects (fewer only when count is smaller than the reference set). */
  *objects(): Generator<StixObject> {
    const head: StixObject[] = [...tlp1Markings(), tlp2ExtensionDefinition(), ...tlp2Markings(), ...this.makeProducers()];
    for (const object of head) {
      if (this.emitted >= this.count) return;
      this.emitted++;
      yield object;
    }
    // Seed the reference pools so that the first relationships and reports have targets.
    for (let i = 0; i < 8 && this.emitted < this.count; i++) {
      for (const make of [() => this.malware(), () => this.attackPattern(), () => this.courseOfAction()]) {
        if (this.emitted >= this.count) return;
        this.emitted++;
        yield make();
      }
    }
    while (this.emitted < this.count) {
      const due = this.pending[0];
      let object: StixObject;
      if (due && due.due <= this.emitted) {
        this.pending.shift();
        object = this.newVersion(due);
      } else {
        object = this.nextObject();
      }
      this.emitted++;
      yield object;
    }
  }

  /** Envelopes of `size` objects. */
  *batches(size: number): Generator<StixObject[]> {
    let batch: StixObject[] = [];
    for (const object of this.objects()) {
      batch.push(object);
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  private makeProducers(): StixObject[] {
    const names = ['Northbridge Health ISAC', 'Clinic Nord SOC', 'Helvetia CERT', 'Orion Threat Research', 'Medisafe MSSP', 'Atlas Sandbox Service'];
    for (const name of names) {
      const created = iso(BASE_TIME - 86_400_000 * this.rng.int(30, 900));
      const identity: StixObject = {
        type: 'identity',
        spec_version: '2.1',
        id: `identity--${this.rng.uuid4()}`,
        created,
        modified: created,
        name,
        description: `${name} shares indicators and analysis with community members.`,
        identity_class: 'organization',
        sectors: this.rng.sample(SECTORS, this.rng.int(1, 2)),
        contact_information: `cti@${name.toLowerCase().replace(/[^a-z]+/g, '-')}.example`,
      };
      this.producers.push(identity);
      this.pool('identity').add(identity.id);
    }
    return this.producers;
  }

  private tick(): number {
    this.clock += this.rng.int(5_000, 90_000);
    return this.clock;
  }

  private common(type: string, options: { confidence?: boolean } = {}): StixObject {
    const created = iso(this.tick());
    const object: StixObject = {
      type,
      spec_version: '2.1',
      id: `${type}--${this.rng.uuid4()}`,
      created_by_ref: this.rng.pick(this.producers).id,
      created,
      modified: created,
    };
    if (options.confidence !== false && !this.rng.chance(0.1)) object.confidence = this.rng.int(0, 100);
    return object;
  }

  private mark(object: StixObject): StixObject {
    const marking = this.rng.weighted(MARKINGS);
    if (marking !== null) object.object_marking_refs = [marking];
    return object;
  }

  private register(object: StixObject): StixObject {
    this.pool(object.type).add(object.id);
    if (object.type !== 'identity' && this.rng.chance(this.versionedShare)) {
      this.pending.push({ due: this.emitted + this.rng.int(50, 3000), object, remaining: this.rng.int(1, 3) });
      this.pending.sort((a, b) => a.due - b.due);
    }
    return object;
  }

  private nextObject(): StixObject {
    const kind = this.rng.weighted<string>([
      ['indicator', 60], ['relationship', 15], ['sco', 9], ['sighting', 5], ['malware', 3], ['attack-pattern', 2.5],
      ['course-of-action', 2], ['report', 3.5],
    ]);
    switch (kind) {
      case 'indicator': return this.indicator();
      case 'relationship': return this.relationship();
      case 'sco': return this.sco();
      case 'sighting': return this.sighting();
      case 'malware': return this.malware();
      case 'attack-pattern': return this.attackPattern();
      case 'course-of-action': return this.courseOfAction();
      default: return this.report();
    }
  }

  /** A later version of a stored object: new modified, usually a new confidence, sometimes revoked at the end. */
  private newVersion(p: PendingVersion): StixObject {
    const previous = p.object;
    const modified = iso(Date.parse(previous.modified as string) + this.rng.int(3_600_000, 30 * 86_400_000));
    const next: StixObject = { ...previous, modified };
    if ('confidence' in previous || this.rng.chance(0.5)) next.confidence = this.rng.int(0, 100);
    if (p.remaining === 1 && this.rng.chance(0.15)) next.revoked = true;
    if (p.remaining > 1) this.pending.push({ due: this.emitted + this.rng.int(50, 3000), object: next, remaining: p.remaining - 1 });
    this.pending.sort((a, b) => a.due - b.due);
    return next;
  }

  // -- observables and patterns ------------------------------------------------------------

  private ipv4(): string {
    return `${this.rng.int(1, 223)}.${this.rng.int(0, 255)}.${this.rng.int(0, 255)}.${this.rng.int(1, 254)}`;
  }

  private domain(): string {
    const parts = this.rng.sample(WORDS, this.rng.int(1, 3)).join(this.rng.chance(0.5) ? '-' : '');
    return `${parts}${this.rng.chance(0.3) ? this.rng.int(1, 99) : ''}.${this.rng.pick(TLDS)}`;
  }

  private url(): string {
    const host = this.rng.chance(0.2) ? this.ipv4() : this.domain();
    const path = this.rng.sample(PATH_PARTS, this.rng.int(1, 3)).join('/');
    return `${this.rng.chance(0.8) ? 'https' : 'http'}://${host}/${path}`;
  }

  private fileName(): string {
    return `${this.rng.pick(FILE_NAMES)}${this.rng.chance(0.4) ? `_${this.rng.int(1000, 9999)}` : ''}.${this.rng.pick(FILE_EXTS)}`;
  }

  private hash(): { algorithm: string; value: string } {
    const algorithm = this.rng.weighted<string>([['SHA-256', 6], ['MD5', 2], ['SHA-1', 2]]);
    return { algorithm, value: this.rng.hex(algorithm === 'SHA-256' ? 64 : algorithm === 'MD5' ? 32 : 40) };
  }

  private hashPath(algorithm: string): string {
    return algorithm === 'MD5' ? 'file:hashes.MD5' : `file:hashes.'${algorithm}'`;
  }

  /** One simple comparison on an L1-style observable; also returns the observable kind. */
  private comparison(kind = this.rng.weighted<string>([['ipv4', 35], ['domain', 25], ['url', 20], ['file', 20]])): string {
    switch (kind) {
      case 'ipv4': return `ipv4-addr:value = '${this.ipv4()}'`;
      case 'domain': return `domain-name:value = '${this.domain()}'`;
      case 'url': return `url:value = '${this.url()}'`;
      default: {
        const h = this.hash();
        return `${this.hashPath(h.algorithm)} = '${h.value}'`;
      }
    }
  }

  private stixPattern(): { pattern: string; name: string } {
    const shape = this.rng.weighted<string>([['atomic', 70], ['disjunctive', 18], ['complex', 12]]);
    if (shape === 'atomic') {
      const kind = this.rng.weighted<string>([['ipv4', 35], ['domain', 25], ['url', 20], ['file', 20]]);
      const comparison = this.comparison(kind);
      const label = { ipv4: 'Malicious IP', domain: 'Malicious domain', url: 'Malicious URL', file: 'Malicious file hash' }[kind]!;
      return { pattern: `[${comparison}]`, name: `${label} ${comparison.split("'")[1]!.slice(0, 40)}` };
    }
    if (shape === 'disjunctive') {
      if (this.rng.chance(0.5)) {
        const kind = this.rng.pick(['ipv4', 'domain', 'file']);
        const n = this.rng.int(2, 4);
        return { pattern: `[${Array.from({ length: n }, () => this.comparison(kind)).join(' OR ')}]`, name: `${n} related ${kind} observables` };
      }
      return { pattern: `[${this.comparison('domain')}] OR [${this.comparison('url')}]`, name: 'Phishing domain or URL' };
    }
    switch (this.rng.int(0, 3)) {
      case 0: {
        const h = this.hash();
        return { pattern: `[${this.hashPath(h.algorithm)} = '${h.value}' AND file:name = '${this.fileName()}']`, name: 'Dropped file with known hash' };
      }
      case 1:
        return {
          pattern: `[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '${this.ipv4()}'] FOLLOWEDBY [${this.comparison('domain')}] WITHIN ${this.rng.int(60, 3600)} SECONDS`,
          name: 'C2 beacon followed by DNS lookup',
        };
      case 2:
        return { pattern: `[url:value LIKE '%/${this.rng.pick(PATH_PARTS)}' AND url:value LIKE 'https://${this.domain()}%']`, name: 'Gate URL on known host' };
      default:
        return { pattern: `[ipv4-addr:value ISSUBSET '${this.ipv4().replace(/\.\d+$/, '.0')}/24'] AND [${this.comparison('domain')}]`, name: 'Hosting range and domain' };
    }
  }

  private otherPattern(): { pattern: string; patternType: string; name: string } {
    if (this.rng.chance(0.6)) {
      const sid = this.rng.int(1_000_000, 9_999_999);
      return {
        pattern: `alert tcp $HOME_NET any -> ${this.ipv4()} ${this.rng.pick([443, 8443, 4444, 80, 8080])} (msg:"CTI ${this.rng.pick(MALWARE_FAMILIES)} C2 checkin"; flow:established,to_server; sid:${sid}; rev:1;)`,
        patternType: 'snort',
        name: `Snort rule ${sid}`,
      };
    }
    const family = this.rng.pick(MALWARE_FAMILIES).replace(/\W+/g, '_');
    return {
      pattern: `rule ${family}_${this.rng.hex(6)} { strings: $a = "${this.rng.hex(16)}" $b = { ${this.rng.hex(8).replace(/(..)/g, '$1 ').trim()} } condition: uint16(0) == 0x5A4D and all of them }`,
      patternType: 'yara',
      name: `YARA rule for ${family}`,
    };
  }

  private killChain(): { kill_chain_name: string; phase_name: string }[] {
    return this.rng.sample(PHASES, this.rng.chance(0.7) ? 1 : 2).map((phase) => ({ kill_chain_name: 'mitre-attack', phase_name: phase }));
  }

  private externalReferences(): Record<string, unknown>[] {
    const refs: Record<string, unknown>[] = [];
    const source = this.rng.pick(SOURCES);
    refs.push({ source_name: source, url: `https://${source.replace(/\./g, '-')}.example/ioc/${this.rng.hex(12)}` });
    if (this.rng.chance(0.3)) {
      const [id, name] = this.rng.pick(TECHNIQUES);
      refs.push({ source_name: 'mitre-attack', external_id: id, description: name });
    }
    return refs;
  }

  /**
   * Brings the serialised object to about `target` bytes: drops optional properties (in
   * the given order) while it is too big, then fills `description` up to the target with
   * whole words (ASCII content, so characters are bytes).
   */
  private fitTo(object: StixObject, target: number, droppable: readonly string[] = []): void {
    const overhead = ',"description":""'.length;
    let base = JSON.stringify(object).length + overhead;
    for (const key of droppable) {
      if (base <= target - 60) break;
      if (!(key in object)) continue;
      delete object[key];
      base = JSON.stringify(object).length + overhead;
    }
    const room = target - base;
    if (room < 30) return;
    let text = '';
    while (text.length < room) text += (text ? ' ' : '') + this.rng.pick(SENTENCES);
    const cut = text.lastIndexOf(' ', room - 1);
    object.description = `${text.slice(0, cut > 0 ? cut : room - 1).replace(/[;,.]$/, '')}.`;
  }

  // -- object types ----------------------------------------------------------------------

  private indicator(): StixObject {
    const common = this.common('indicator');
    const stix = this.rng.chance(0.94);
    const pattern = stix ? { ...this.stixPattern(), patternType: 'stix' } : this.otherPattern();
    const validFrom = common.created as string;
    const object: StixObject = {
      type: common.type,
      spec_version: '2.1',
      id: common.id,
      created_by_ref: common.created_by_ref,
      created: common.created,
      modified: common.modified,
      name: pattern.name,
      indicator_types: [this.rng.weighted(INDICATOR_TYPES)],
      pattern: pattern.pattern,
      pattern_type: pattern.patternType,
      ...(stix ? { pattern_version: '2.1' } : {}),
      valid_from: validFrom,
    };
    if (this.rng.chance(0.3)) object.valid_until = iso(Date.parse(validFrom) + this.rng.int(90, 900) * 86_400_000);
    if (this.rng.chance(0.6)) object.kill_chain_phases = this.killChain();
    if (this.rng.chance(0.5)) object.labels = this.rng.sample(LABELS, this.rng.int(1, 2));
    if ('confidence' in common) object.confidence = common.confidence;
    if (this.rng.chance(0.75)) object.external_references = this.externalReferences();
    this.mark(object);
    this.fitTo(object, this.rng.int(720, 880), ['labels', 'kill_chain_phases', 'external_references', 'valid_until']);
    return this.register(object);
  }

  private malware(): StixObject {
    const object = this.common('malware');
    const family = this.rng.pick(MALWARE_FAMILIES);
    Object.assign(object, {
      name: family,
      malware_types: this.rng.sample(MALWARE_TYPES, this.rng.int(1, 2)),
      is_family: true,
      aliases: [family.toLowerCase().replace(/\s+/g, ''), `${family} ${this.rng.pick(['loader', 'variant', 'campaign build'])}`],
      kill_chain_phases: this.killChain(),
      external_references: this.externalReferences(),
    });
    this.mark(object);
    this.fitTo(object, this.rng.int(600, 1400));
    return this.register(object);
  }

  private attackPattern(): StixObject {
    const object = this.common('attack-pattern');
    const [id, name] = this.rng.pick(TECHNIQUES);
    Object.assign(object, {
      name,
      kill_chain_phases: this.killChain(),
      external_references: [
        { source_name: 'mitre-attack', external_id: id, url: `https://attack.mitre.org/techniques/${id.replace('.', '/')}/` },
        { source_name: 'capec', external_id: `CAPEC-${this.rng.int(1, 700)}` },
      ],
    });
    this.mark(object);
    this.fitTo(object, this.rng.int(500, 1200));
    return this.register(object);
  }

  private courseOfAction(): StixObject {
    const object = this.common('course-of-action');
    Object.assign(object, {
      name: this.rng.pick([
        'Block at perimeter firewall', 'Sinkhole domain in internal DNS', 'Add hash to EDR blocklist', 'Disable macros from the internet',
        'Enforce MFA on remote access', 'Patch exposed VPN appliance', 'Restrict PowerShell to signed scripts', 'Isolate affected hosts',
      ]),
    });
    this.mark(object);
    this.fitTo(object, this.rng.int(350, 800));
    return this.register(object);
  }

  private relationship(): StixObject {
    const indicator = this.pool('indicator');
    const choice = this.rng.weighted<string>([['indicates', 55], ['uses', 20], ['mitigates', 15], ['related-to', 10]]);
    let source: string | undefined;
    let target: string | undefined;
    if (choice === 'indicates') {
      source = indicator.pick(this.rng);
      target = this.pool(this.rng.chance(0.7) ? 'malware' : 'attack-pattern').pick(this.rng);
    } else if (choice === 'uses') {
      source = this.pool('malware').pick(this.rng);
      target = this.pool('attack-pattern').pick(this.rng);
    } else if (choice === 'mitigates') {
      source = this.pool('course-of-action').pick(this.rng);
      target = this.pool(this.rng.chance(0.6) ? 'attack-pattern' : 'malware').pick(this.rng);
    } else {
      source = indicator.pick(this.rng);
      target = indicator.pick(this.rng);
    }
    if (!source || !target || source === target) return this.indicator();
    const object = this.common('relationship');
    Object.assign(object, {
      relationship_type: choice,
      description: `${choice} relationship asserted by analyst review`,
      source_ref: source,
      target_ref: target,
    });
    return this.register(this.mark(object));
  }

  private sighting(): StixObject {
    const indicator = this.pool('indicator').pick(this.rng);
    if (!indicator) return this.indicator();
    const object = this.common('sighting');
    const first = Date.parse(object.created as string) - this.rng.int(3_600_000, 7 * 86_400_000);
    Object.assign(object, {
      first_seen: iso(first),
      last_seen: iso(first + this.rng.int(60_000, 3 * 86_400_000)),
      count: this.rng.int(1, 500),
      sighting_of_ref: indicator,
      where_sighted_refs: [this.rng.pick(this.producers).id],
    });
    return this.register(this.mark(object));
  }

  private report(): StixObject {
    const object = this.common('report');
    const refs = new Set<string>();
    const wanted = this.rng.int(5, 20);
    for (let tries = 0; refs.size < wanted && tries < wanted * 3; tries++) {
      const type = this.rng.weighted<string>([['indicator', 60], ['malware', 10], ['attack-pattern', 10], ['relationship', 15], ['identity', 5]]);
      const id = this.pool(type).pick(this.rng);
      if (id) refs.add(id);
    }
    Object.assign(object, {
      name: `${this.rng.pick(MALWARE_FAMILIES)} activity ${this.rng.pick(['update', 'summary', 'flash alert', 'weekly digest'])} ${iso(Date.parse(object.created as string)).slice(0, 10)}`,
      report_types: this.rng.sample(REPORT_TYPES, this.rng.int(1, 2)),
      published: object.modified,
      object_refs: [...refs],
      labels: this.rng.sample(LABELS, this.rng.int(1, 3)),
      external_references: this.externalReferences(),
    });
    this.mark(object);
    this.fitTo(object, this.rng.int(1200, 2200));
    return this.register(object);
  }

  private sco(): StixObject {
    const kind = this.rng.weighted<string>([['ipv4-addr', 35], ['domain-name', 25], ['url', 20], ['file', 20]]);
    let object: StixObject;
    if (kind === 'file') {
      const hashes: Record<string, string> = { 'SHA-256': this.rng.hex(64) };
      if (this.rng.chance(0.6)) hashes.MD5 = this.rng.hex(32);
      const name = this.fileName();
      object = { type: 'file', spec_version: '2.1', id: '', hashes, name, size: this.rng.int(2_000, 9_000_000) };
      object.id = `file--${uuidV5(canonical({ hashes: { [hashes.MD5 ? 'MD5' : 'SHA-256']: hashes.MD5 ?? hashes['SHA-256']! }, name }))}`;
    } else {
      const value = kind === 'ipv4-addr' ? this.ipv4() : kind === 'domain-name' ? this.domain() : this.url();
      object = { type: kind, spec_version: '2.1', id: `${kind}--${uuidV5(canonical({ value }))}`, value };
    }
    if (this.rng.chance(0.5)) this.mark(object);
    this.pool(object.type).add(object.id);
    return object;
  }
}

/** RFC 8785 for the flat values used in SCO ids (sorted keys). */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record).sort().map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
}

// ---------------------------------------------------------------------------------------
// Self-test: npx tsx bench/generate.ts --check

const MARKING_NAMES = new Map<string, string>([
  ...Object.entries(TLP1).map(([name, id]) => [id, `tlp1:${name}`] as [string, string]),
  ...Object.entries(TLP2).map(([name, id]) => [id, `tlp2:${name}`] as [string, string]),
]);

async function check(count: number, seed: string): Promise<number> {
  const { createStixValidator } = await import('../src/stix/validate.js');
  const { analyseStixObject } = await import('../src/stix/analyse.js');
  const validator = createStixValidator();
  const byType = new Map<string, number>();
  const patternClasses = new Map<string, number>();
  const markings = new Map<string, number>();
  const versions = new Map<string, number>();
  const sizes: number[] = [];
  let confidenceMissing = 0;
  let confidenceSum = 0;
  let confidenceCount = 0;
  let invalid = 0;
  let warned = 0;
  const problems: string[] = [];
  const hash = createHash('sha256');
  const started = performance.now();
  for (const object of new StixGenerator({ count, seed }).objects()) {
    const text = JSON.stringify(object);
    hash.update(text);
    byType.set(object.type, (byType.get(object.type) ?? 0) + 1);
    versions.set(object.id, (versions.get(object.id) ?? 0) + 1);
    const result = validator.validate(object);
    if (!result.valid) {
      invalid++;
      if (problems.length < 10) problems.push(`INVALID ${object.id}: ${result.errors.join('; ')}\n  ${text}`);
    } else if (result.warnings.length > 0) {
      warned++;
      if (problems.length < 10) problems.push(`warning ${object.id}: ${result.warnings.join('; ')}`);
    }
    const refs = object.object_marking_refs as string[] | undefined;
    const tlp = refs?.[0] ? (MARKING_NAMES.get(refs[0]) ?? 'other') : 'unmarked';
    if (!['marking-definition', 'extension-definition', 'identity'].includes(object.type)) markings.set(tlp, (markings.get(tlp) ?? 0) + 1);
    if (object.type === 'indicator') {
      sizes.push(text.length);
      if (typeof object.confidence === 'number') {
        confidenceSum += object.confidence;
        confidenceCount++;
      } else confidenceMissing++;
      const analysis = analyseStixObject(object);
      const cls = `${analysis.patternType}${analysis.patternClass ? `/${analysis.patternClass}` : ''}`;
      patternClasses.set(cls, (patternClasses.get(cls) ?? 0) + 1);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  sizes.sort((a, b) => a - b);
  const inRange = sizes.filter((s) => s >= 700 && s <= 900).length;
  const versionCounts = new Map<number, number>();
  for (const n of versions.values()) versionCounts.set(n, (versionCounts.get(n) ?? 0) + 1);
  const fmt = (m: Map<string | number, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  const out = process.stdout;
  out.write(`generated ${count} objects (seed "${seed}") in ${seconds.toFixed(1)} s; sha256 ${hash.digest('hex').slice(0, 16)}\n`);
  out.write(`types: ${fmt(byType)}\n`);
  out.write(`indicator patterns: ${fmt(patternClasses)}\n`);
  out.write(`indicator bytes: min ${sizes[0]}, p50 ${sizes[Math.floor(sizes.length / 2)]}, max ${sizes[sizes.length - 1]}; in 700-900: ${inRange}/${sizes.length}\n`);
  out.write(`indicator confidence: mean ${(confidenceSum / Math.max(1, confidenceCount)).toFixed(1)}, missing ${confidenceMissing}/${sizes.length}\n`);
  out.write(`markings (intelligence objects): ${fmt(markings)}\n`);
  out.write(`versions per id: ${fmt(versionCounts)} (ids with >1: ${(100 * (versions.size - (versionCounts.get(1) ?? 0)) / versions.size).toFixed(1)}%)\n`);
  out.write(`validation: ${count - invalid} valid, ${invalid} invalid, ${warned} with warnings\n`);
  for (const p of problems) out.write(`${p}\n`);
  return invalid === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { check: { type: 'boolean' }, count: { type: 'string' }, seed: { type: 'string' }, print: { type: 'string' } },
  });
  const count = Number(values.count ?? 20000);
  const seed = values.seed ?? 'taxii-bench';
  if (values.print) {
    let i = 0;
    for (const object of new StixGenerator({ count, seed }).objects()) {
      if (i++ >= Number(values.print)) break;
      process.stdout.write(`${JSON.stringify(object)}\n`);
    }
  } else if (values.check) {
    process.exitCode = await check(count, seed);
  } else {
    process.stderr.write('usage: tsx bench/generate.ts --check [--count N] [--seed S] | --print K [--count N]\n');
    process.exitCode = 2;
  }
}
