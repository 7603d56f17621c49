import { createReadStream, type ReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { JsonPositionError, parseJsonAt, StixDocumentScanner } from './json-scan.js';

/**
 * The files `taxii-hub import` reads: STIX bundles (.json, .stix2, .stix),
 * JSON Lines (.jsonl, .ndjson: one object, or one bundle, per line), each
 * optionally gzipped (.gz, recognised by its content). Everything is read as
 * a stream: a bundle item by item, JSON Lines line by line.
 */
export type FileKind = 'bundle' | 'jsonl';

/** Where an item is in its file: its line, and its index in the "objects" list (bundles, or a bundle on a JSON line). */
export interface ItemPosition {
  line: number;
  column?: number;
  index?: number;
}

export type FileEntry =
  | { kind: 'item'; value: unknown; position: ItemPosition }
  /** A JSON Lines line that is not JSON: that line fails, the next ones are still read. */
  | { kind: 'broken'; position: ItemPosition; message: string };

export function fileKind(path: string): FileKind | undefined {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (/\.(jsonl|ndjson)$/.test(name)) return 'jsonl';
  if (/\.(json|stix2|stix)$/.test(name)) return 'bundle';
  return undefined;
}

export interface FileProblem {
  file: string;
  message: string;
}

/**
 * The files named, folders searched recursively (files of other kinds in a
 * folder are skipped), in a stable order. A path that does not exist, or a
 * file named explicitly that is of no known kind, is a problem to report.
 */
export async function collectFiles(paths: readonly string[]): Promise<{ files: { path: string; kind: FileKind }[]; problems: FileProblem[] }> {
  const files: { path: string; kind: FileKind }[] = [];
  const problems: FileProblem[] = [];
  const seen = new Set<string>();
  const add = (path: string, kind: FileKind) => {
    const key = resolve(path);
    if (seen.has(key)) return;
    seen.add(key);
    files.push({ path, kind });
  };
  const walk = async (dir: string) => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      // A symbolic link counts as what it points to.
      const target = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : entry;
      if (!target) continue;
      if (target.isDirectory()) await walk(path);
      else {
        const kind = target.isFile() ? fileKind(entry.name) : undefined;
        if (kind) add(path, kind);
      }
    }
  };
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      problems.push({ file: path, message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (error as Error).message });
      continue;
    }
    if (info.isDirectory()) {
      await walk(path);
      continue;
    }
    const kind = fileKind(path);
    if (kind) add(path, kind);
    else problems.push({ file: path, message: 'not a file kind taxii-hub imports (.json, .json.gz, .stix2, .jsonl, .jsonl.gz)' });
  }
  return { files, problems };
}

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

export interface OpenedFile {
  text: Readable;
  /** The file's bytes read so far (compressed bytes for a gzipped file). */
  bytesRead(): number;
}

/** The file's text as a stream of UTF-8 decoded chunks, gunzipped on the way when it is gzipped. */
export async function openText(path: string): Promise<OpenedFile> {
  const raw: ReadStream = createReadStream(path, { highWaterMark: 256 * 1024 });
  const text: Readable = (await isGzip(path))
    ? pipeline(raw, createGunzip(), () => {
        /* errors surface through the returned stream */
      })
    : raw;
  text.setEncoding('utf8');
  return { text, bytesRead: () => raw.bytesRead };
}

/** The items of a bundle file, in order; a JSON error throws (with its line and column) and ends the file. */
export async function* readBundle(opened: OpenedFile): AsyncGenerator<FileEntry> {
  const pending: FileEntry[] = [];
  const scanner = new StixDocumentScanner((item) =>
    pending.push({
      kind: 'item',
      value: item.value,
      position: item.index < 0 ? { line: item.line } : { line: item.line, column: item.column, index: item.index },
    }),
  );
  let failure: { error: unknown } | undefined;
  try {
    for await (const chunk of opened.text) {
      scanner.feed(chunk as string);
      yield* pending;
      pending.length = 0;
    }
    scanner.end();
  } catch (error) {
    failure = { error };
  }
  // The items complete before an error are still given, then the error.
  yield* pending;
  if (failure) throw failure.error;
}

/** The items of a JSON Lines file: one object per line (a line holding a bundle gives its objects). */
export async function* readJsonLines(opened: OpenedFile): AsyncGenerator<FileEntry> {
  const lines = createInterface({ input: opened.text, crlfDelay: Infinity });
  let line = 0;
  for await (const raw of lines) {
    line++;
    const text = line === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = parseJsonAt(text, line, 1);
    } catch (error) {
      const e = error as JsonPositionError;
      yield { kind: 'broken', position: { line, column: e.column }, message: e.reason };
      continue;
    }
    const record = value as Record<string, unknown> | null;
    if (record !== null && typeof record === 'object' && record.type === 'bundle' && Array.isArray(record.objects)) {
      for (const [index, object] of record.objects.entries()) yield { kind: 'item', value: object, position: { line, index } };
    } else {
      yield { kind: 'item', value, position: { line } };
    }
  }
}

export function readFileEntries(kind: FileKind, opened: OpenedFile): AsyncGenerator<FileEntry> {
  return kind === 'jsonl' ? readJsonLines(opened) : readBundle(opened);
}

/** "line 12", "objects[3] (line 40)", "line 7, objects[2]". */
export function describePosition(position: ItemPosition, kind: FileKind): string {
  if (position.index === undefined) return position.column === undefined ? `line ${position.line}` : `line ${position.line}, column ${position.column}`;
  return kind === 'jsonl' ? `line ${position.line}, objects[${position.index}]` : `objects[${position.index}] (line ${position.line})`;
}
