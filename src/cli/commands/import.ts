import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CollectionAccess } from '../../db/catalog.js';
import { audit } from '../../services/admin/audit.js';
import { getCollection } from '../../services/admin/catalog.js';
import { createStixValidator } from '../../stix/validate.js';
import { integer, resolveCollection } from '../args.js';
import { ExitCode, type CliContext } from '../context.js';
import { plural, record, table } from '../format.js';
import { analyzeIfStale } from '../../db/maintenance.js';
import { ingestBatch, type IngestDeps } from '../ingest.js';
import { JsonPositionError } from '../json-scan.js';
import { counts, createProgress, type ProgressState } from '../progress.js';
import { collectFiles, describePosition, openText, readFileEntries, type FileEntry, type FileKind, type ItemPosition } from '../stix-files.js';

/**
 * `import <collection> <files or folders…>`: STIX bundles and JSON Lines,
 * gzipped or not, read as streams and stored in batches through the TAXII
 * POST path (ingest.ts). Invalid objects are reported with their position and
 * the valid ones stored; a file with broken JSON is reported with the place
 * of the error (the objects before it are stored, the rest of that file is
 * not read) and the other files are still imported.
 */
export interface FileSummary {
  file: string;
  kind: FileKind | null;
  read: number;
  stored: number;
  already_present: number;
  failed: number;
  /** Why the file could not be read to its end (broken JSON, unreadable, …). */
  error: string | null;
}

export interface ImportFailure extends ItemPosition {
  file: string;
  id?: string;
  message: string;
}

export interface ImportReport {
  collection: string;
  files: FileSummary[];
  totals: { files: number; read: number; stored: number; already_present: number; failed: number; file_errors: number };
  failures: ImportFailure[];
}

interface Pending {
  value: unknown;
  position: ItemPosition;
}

const SHOWN_FAILURES = 100;

function idOf(value: unknown): string | undefined {
  const id = value !== null && typeof value === 'object' ? (value as Record<string, unknown>).id : undefined;
  return typeof id === 'string' && id.length <= 300 ? id : undefined;
}

function describeError(error: unknown): string {
  if (error instanceof JsonPositionError) return error.message;
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR') return `cannot decompress (${e.message})`;
  return e.message ?? String(error);
}

function reportText(report: ImportReport, title: string): string {
  const t = report.totals;
  const lines = [
    `imported into ${report.collection} (${title}) from ${plural(t.files, 'file')}${t.file_errors > 0 ? `, ${t.file_errors} with errors` : ''}`,
    record({ 'objects read': t.read, stored: t.stored, 'already present': t.already_present, failed: t.failed }),
  ];
  if (report.files.length > 1) {
    lines.push(
      '',
      table(report.files, [
        { header: 'file', value: (f) => f.file },
        { header: 'read', value: (f) => f.read },
        { header: 'stored', value: (f) => f.stored },
        { header: 'present', value: (f) => f.already_present },
        { header: 'failed', value: (f) => f.failed },
        { header: 'error', value: (f) => (f.error ? 'yes' : '') },
      ]),
    );
  }
  if (report.failures.length > 0) {
    lines.push('', `failures (${report.failures.length.toLocaleString('en-US')}):`);
    for (const f of report.failures.slice(0, SHOWN_FAILURES)) {
      const kind = report.files.find((s) => s.file === f.file)?.kind ?? 'bundle';
      lines.push(`  ${f.file} ${describePosition(f, kind)}${f.id ? ` ${f.id}` : ''}: ${f.message}`);
    }
    if (report.failures.length > SHOWN_FAILURES) lines.push(`  … and ${report.failures.length - SHOWN_FAILURES} more (--json lists them all)`);
  }
  const broken = report.files.filter((f) => f.error);
  if (broken.length > 0) {
    lines.push('', 'file errors:');
    for (const f of broken) lines.push(`  ${f.file}: ${f.error}${f.read > 0 ? ` (${plural(f.read, 'object')} before it ${f.read === 1 ? 'was' : 'were'} read)` : ''}`);
  }
  return lines.join('\n');
}

export function importCommand(program: Command, ctx: CliContext): void {
  program
    .command('import')
    .description('import STIX files into a collection: bundles (.json, .stix2), JSON Lines (.jsonl), gzipped or not (.gz), or folders of them; exit code 3 when some objects failed')
    .argument('<collection>', 'id, alias or <api root>/<alias>')
    .argument('<paths...>', 'files and folders (searched recursively)')
    .option('--batch-size <n>', 'objects stored per transaction (at most MAX_OBJECTS_PER_ENVELOPE)', integer(1, 1_000_000), 1000)
    .option('--no-progress', 'no progress on stderr')
    .action(async (ref: string, paths: string[], o: { batchSize: number; progress: boolean }) => {
      const db = await ctx.db();
      const info = await getCollection(db, await resolveCollection(db, ref));
      const collection: CollectionAccess = {
        id: info.id,
        apiRootId: info.api_root,
        alias: info.alias,
        title: info.title,
        description: info.description,
        mediaTypes: info.media_types,
        canRead: true,
        canWrite: true,
      };
      const { files, problems } = await collectFiles(paths);
      if (files.length === 0 && problems.length === 0) throw new Error(`no file to import in ${paths.join(', ')} (.json, .json.gz, .stix2, .jsonl, .jsonl.gz)`);

      const deps: IngestDeps = { db, validator: createStixValidator(), limits: ctx.config, actor: ctx.actor.name };
      const batchSize = Math.min(o.batchSize, ctx.config.maxObjectsPerEnvelope);
      const sizes = await Promise.all(files.map(async (f) => (await stat(f.path).catch(() => undefined))?.size ?? 0));
      const totalBytes = sizes.reduce((a, b) => a + b, 0);
      const progress = createProgress(ctx.stderr, { enabled: o.progress, intervalMs: ctx.options.progressIntervalMs ?? 2000 });

      const summaries: FileSummary[] = problems.map((p) => ({ file: p.file, kind: null, read: 0, stored: 0, already_present: 0, failed: 0, error: p.message }));
      const failures: ImportFailure[] = [];
      const totals = { read: 0, stored: 0, present: 0, failed: 0 };
      let bytesBefore = 0;
      for (const p of problems) progress.log(`import: ${p.file}: ${p.message}`);

      try {
        for (const [fileIndex, file] of files.entries()) {
          const summary: FileSummary = { file: file.path, kind: file.kind, read: 0, stored: 0, already_present: 0, failed: 0, error: null };
          summaries.push(summary);
          let batch: Pending[] = [];
          let bytesRead = () => 0;
          const state = (): ProgressState => ({
            file: file.path,
            fileNumber: fileIndex + 1,
            files: files.length,
            bytes: bytesBefore + bytesRead(),
            totalBytes,
            read: totals.read,
            stored: totals.stored,
            present: totals.present,
            failed: totals.failed,
          });
          const fail = (position: ItemPosition, message: string, id?: string) => {
            failures.push({ file: file.path, ...position, ...(id ? { id } : {}), message });
            summary.failed++;
            totals.failed++;
          };
          const flush = async () => {
            if (batch.length === 0) return;
            const items = batch;
            batch = [];
            const outcome = await ingestBatch(deps, collection, items.map((item) => item.value));
            summary.stored += outcome.stored;
            summary.already_present += outcome.alreadyPresent;
            totals.stored += outcome.stored;
            totals.present += outcome.alreadyPresent;
            for (const failure of outcome.failures) {
              const item = items[failure.index]!;
              fail(item.position, failure.message, idOf(item.value));
            }
            progress.update(state());
          };

          let entries: AsyncIterator<FileEntry> | undefined;
          try {
            const opened = await openText(file.path);
            bytesRead = opened.bytesRead;
            entries = readFileEntries(file.kind, opened)[Symbol.asyncIterator]();
            for (;;) {
              let next: IteratorResult<FileEntry>;
              try {
                next = await entries.next();
              } catch (error) {
                summary.error = describeError(error);
                break;
              }
              if (next.done) break;
              const entry = next.value;
              summary.read++;
              totals.read++;
              if (entry.kind === 'broken') fail(entry.position, entry.message);
              else {
                batch.push({ value: entry.value, position: entry.position });
                if (batch.length >= batchSize) await flush();
              }
            }
          } catch (error) {
            if (!summary.error && entries === undefined) summary.error = describeError(error);
            else throw error;
          } finally {
            await entries?.return?.();
          }
          await flush();
          bytesBefore += sizes[fileIndex]!;
          bytesRead = () => 0;
          progress.update(state());
          progress.log(`import: ${file.path}: ${summary.error ? `${summary.error}; ` : ''}${counts({ read: summary.read, stored: summary.stored, present: summary.already_present, failed: summary.failed })}`);
        }
      } finally {
        progress.stop();
      }
      // Fresh statistics for the planner after a bulk load (when autoanalyze is off).
      await analyzeIfStale(db);

      const report: ImportReport = {
        collection: collection.id,
        files: summaries,
        totals: {
          files: summaries.length,
          read: totals.read,
          stored: totals.stored,
          already_present: totals.present,
          failed: totals.failed,
          file_errors: summaries.filter((s) => s.error).length,
        },
        failures,
      };
      await db.transaction().execute((trx) =>
        audit(trx, ctx.actor, 'objects.import', { type: 'collection', id: collection.id }, { ...report.totals, paths: summaries.map((s) => s.file) }),
      );
      ctx.print(report, () => reportText(report, collection.title));
      if (report.totals.failed > 0 || report.totals.file_errors > 0) throw new ExitCode(3);
    });
}
