// Every `pattern_type: "stix"` pattern of the shared real-world corpus (SHARED_DATA_DIR) goes through the
// parser: IOC feeds (abuse.ch via feeds2stix, Amnesty, MVT, SEKOIA), the OASIS material and
// the authored valid controls. The only patterns allowed to fail are stix-elevator output
// that the elevator itself marked as unconvertible (see ELEVATOR_PLACEHOLDER).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analysePattern, type PatternClass } from '../../src/stix/pattern/index.js';
import { SHARED_DATA_DIR } from '../support/shared-data.js';

const DATA_DIR = SHARED_DATA_DIR;

interface CorpusPattern {
  file: string;
  id: string;
  pattern: string;
}

function listFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => listFiles(join(path, name)));
}

function readDocuments(path: string): unknown[] {
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  if (path.replace(/\.gz$/, '').endsWith('.jsonl')) {
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as unknown);
  }
  return [JSON.parse(text) as unknown];
}

/** Indicators anywhere in a document: bundles, bare objects, JSON lines, TAXII backends. */
function collectStixPatterns(value: unknown, file: string, into: CorpusPattern[]): void {
  if (Array.isArray(value)) {
    for (const item of value) collectStixPatterns(item, file, into);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  if (record.type === 'indicator' && record.pattern_type === 'stix' && typeof record.pattern === 'string') {
    into.push({ file, id: String(record.id), pattern: record.pattern });
  }
  for (const child of Object.values(record)) collectStixPatterns(child, file, into);
}

function corpusPatterns(...paths: string[]): CorpusPattern[] {
  const out: CorpusPattern[] = [];
  for (const path of paths.map((p) => join(DATA_DIR, p))) {
    for (const file of listFiles(path).filter((f) => /\.(json|jsonl|stix2)(\.gz)?$/.test(f))) {
      for (const doc of readDocuments(file)) collectStixPatterns(doc, relative(DATA_DIR, file), out);
    }
  }
  return out;
}

/**
 * stix-elevator writes `unconverted_term:<source>:<id>` (or `unconverted_term:<Obj>.<prop>`)
 * in place of a STIX 1.x term it could not convert, and `INVALID-CONDITION` for an operator
 * it could not map. Neither is a comparison in the §9 grammar (no operator and constant;
 * not an operator), so these patterns are genuinely invalid.
 */
const ELEVATOR_PLACEHOLDER = /unconverted_term|INVALID-CONDITION/;

/** The error is raised at the placeholder itself, not at some earlier construct. */
function failsAtPlaceholder(pattern: string, position: number): boolean {
  return (
    /unconverted_term[\w:.-]*\s*$/.test(pattern.slice(0, position)) || pattern.startsWith('INVALID-CONDITION', position)
  );
}

describe('real-world STIX patterns parse (STIX 2.1 §9)', () => {
  const iocs = corpusPatterns('iocs');
  const oasis = corpusPatterns('oasis');
  const controls = corpusPatterns('invalid/authored/valid-controls.json');
  const all = [...iocs, ...oasis, ...controls];

  it('the corpus holds the expected number of stix patterns', () => {
    expect({ iocs: iocs.length, oasis: oasis.length, controls: controls.length }).toEqual({
      iocs: 8502,
      oasis: 1231,
      controls: 1,
    });
  });

  it('every IOC-feed pattern parses (abuse.ch, Amnesty, MVT, SEKOIA, feeds2stix examples)', () => {
    const failures = iocs.flatMap((p) => {
      const result = analysePattern(p.pattern);
      return result.ok ? [] : [`${p.file} ${p.id}: ${result.error}`];
    });
    expect(failures).toEqual([]);
  });

  it('every OASIS pattern parses except stix-elevator placeholders, which fail at the placeholder', () => {
    const unexpected: string[] = [];
    const rejectedByFile: Record<string, number> = {};
    for (const p of oasis) {
      const result = analysePattern(p.pattern);
      const placeholder = ELEVATOR_PLACEHOLDER.test(p.pattern);
      if (result.ok && placeholder) unexpected.push(`${p.id} parsed despite a placeholder`);
      if (!result.ok && !placeholder) unexpected.push(`${p.file} ${p.id}: ${result.error}`);
      if (!result.ok && placeholder) {
        if (!failsAtPlaceholder(p.pattern, result.position)) unexpected.push(`${p.id} failed early: ${result.error}`);
        rejectedByFile[p.file] = (rejectedByFile[p.file] ?? 0) + 1;
      }
    }
    expect(unexpected).toEqual([]);
    expect(rejectedByFile).toEqual({
      'oasis/stix-elevator-idioms-2.1/Appendix_G_IOCs_Full.json': 45,
      'oasis/stix-elevator-idioms-2.1/custom_object.json': 1,
      'oasis/stix-elevator-idioms-2.1/fireeye-pivy-report-with-indicators.json.gz': 94,
      'oasis/stix-elevator-idioms-2.1/issue62.json': 2,
      'oasis/stix-elevator-idioms-2.1/observable-with-networkconnection-pattern.json': 1,
    });
  });

  it('the authored valid controls parse', () => {
    for (const p of controls) expect(analysePattern(p.pattern).ok).toBe(true);
  });

  it('counts by pattern class over the whole corpus are stable', () => {
    const counts: Record<PatternClass | 'rejected', number> = { atomic: 0, disjunctive: 0, complex: 0, rejected: 0 };
    for (const p of all) {
      const result = analysePattern(p.pattern);
      counts[result.ok ? result.analysis.patternClass : 'rejected']++;
    }
    console.info(`stix patterns by class over ${all.length} real patterns: ${JSON.stringify(counts)}`);
    expect(counts).toEqual({ atomic: 6842, disjunctive: 139, complex: 2610, rejected: 143 });
  });
});

describe('authored bad-input cases (invalid/authored)', () => {
  function casePattern(prefix: string): string {
    const dir = join(DATA_DIR, 'invalid/authored/cases');
    const name = readdirSync(dir).find((f) => f.startsWith(prefix));
    if (!name) throw new Error(`no case ${prefix}`);
    const object = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { pattern: string; pattern_type: string };
    expect(object.pattern_type).toBe('stix');
    return object.pattern;
  }

  it('INV-053: an unbalanced pattern is rejected', () => {
    const result = analysePattern(casePattern('INV-053-'));
    expect(result).toEqual({ ok: false, error: "expected ']' at position 34, found end of pattern", position: 34 });
  });

  it("INV-054: a pattern naming 'domain' parses and reports it as an unknown object type", () => {
    const result = analysePattern(casePattern('INV-054-'));
    expect(result.ok && result.analysis.unknownObjectTypes).toEqual(['domain']);
  });

  it('INV-056: a YARA rule labelled stix is rejected', () => {
    const result = analysePattern(casePattern('INV-056-'));
    expect(result.ok).toBe(false);
  });

  it('every other authored case with a stix pattern parses (their faults lie elsewhere)', () => {
    const others: CorpusPattern[] = [];
    for (const file of listFiles(join(DATA_DIR, 'invalid/authored/cases'))) {
      if (/INV-05[346]-/.test(file)) continue;
      let documents: unknown[];
      try {
        documents = readDocuments(file);
      } catch {
        continue; // the JSON-syntax cases (INV-001…) are not JSON at all
      }
      collectStixPatterns(documents, relative(DATA_DIR, file), others);
    }
    expect(others.length).toBeGreaterThan(30);
    for (const p of others) expect(analysePattern(p.pattern).ok, p.file).toBe(true);
  });
});
