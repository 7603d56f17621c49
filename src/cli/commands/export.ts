import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Option, type Command } from 'commander';
import { v4 as uuidv4 } from 'uuid';
import type { Db } from '../../db/database.js';
import { selectObjects, type ReaderView } from '../../db/object-queries.js';
import { findProfile } from '../../db/view-policies.js';
import { findOrganisation } from '../../services/admin/catalog.js';
import type { CursorPosition } from '../../taxii/cursor.js';
import type { Filters } from '../../taxii/query.js';
import { notFound } from '../../taxii/errors.js';
import { resolveView, type ViewDescriptor } from '../../views/reader-view.js';
import { integer, resolveCollection } from '../args.js';
import type { CliContext } from '../context.js';
import { plural } from '../format.js';

/**
 * `export <collection> <file>`: the collection as a STIX 2.1 bundle, written
 * as it is read: page after page in date_added order, each page starting
 * after the position of the last row of the previous one (the keyset the
 * TAXII reads use), so no more than a page is held in memory. Through a view
 * (--organisation, --profile) it is exactly what that reader would get.
 */
const ALL_VERSIONS: Filters = { versions: { all: true, first: false, last: false, keys: [] }, specVersions: ['2.0', '2.1'] };

async function* collectionBodies(db: Db, collectionId: string, filters: Filters, view: ReaderView | undefined, pageSize: number): AsyncGenerator<string> {
  let after: CursorPosition | undefined;
  for (;;) {
    const rows = await selectObjects(db, { collectionId, filters, limit: pageSize, ...(view ? { view } : {}), ...(after ? { after } : {}) });
    for (const row of rows) yield row.body;
    if (rows.length < pageSize) return;
    const last = rows.at(-1)!;
    after = { date: last.date_added, seq: last.cseq };
  }
}

/** The bundle's text in pieces of about 256 KiB; counts the objects. */
async function* bundleText(bodies: AsyncIterable<string>, counter: { objects: number }): AsyncGenerator<string> {
  const id = `bundle--${uuidv4()}`;
  let piece = '';
  for await (const body of bodies) {
    piece += counter.objects === 0 ? `{"type":"bundle","id":"${id}","objects":[\n${body}` : `,\n${body}`;
    counter.objects++;
    if (piece.length >= 256 * 1024) {
      yield piece;
      piece = '';
    }
  }
  // STIX §8: a bundle's "objects", when present, is not empty.
  yield counter.objects === 0 ? `{"type":"bundle","id":"${id}"}\n` : `${piece}\n]}\n`;
}

export function exportCommand(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description("write a collection (latest versions by default), or an organisation's or profile's view of it, as a STIX 2.1 bundle")
    .argument('<collection>', 'id, alias or <api root>/<alias>')
    .argument('<file>', 'the bundle file to write (replaced when it exists)')
    .option('--all-versions', 'every version of every object, not only the latest')
    .option('--gzip', 'gzip the file (implied by a name ending in .gz)')
    .addOption(new Option('--organisation <organisation>', "only what this organisation's view shows").conflicts('profile'))
    .addOption(new Option('--profile <profile>', "only what this profile's view shows"))
    .option('--page-size <n>', 'objects read per query', integer(1, 100_000), 1000)
    .action(async (ref: string, file: string, o: { allVersions?: boolean; gzip?: boolean; organisation?: string; profile?: string; pageSize: number }) => {
      const db = await ctx.db();
      const collectionId = await resolveCollection(db, ref);
      let view: ReaderView | undefined;
      let descriptor: ViewDescriptor | null = null;
      if (o.organisation !== undefined || o.profile !== undefined) {
        let subject: { organisationId: string } | { profileId: string };
        let who: string;
        if (o.organisation !== undefined) {
          const org = await findOrganisation(db, o.organisation);
          subject = { organisationId: org.id };
          who = `the organisation ${org.name}`;
        } else {
          if (!(await findProfile(db, o.profile!))) throw notFound(`The profile ${o.profile}`);
          subject = { profileId: o.profile! };
          who = `the profile ${o.profile}`;
        }
        const resolved = await resolveView(db, collectionId, subject);
        if (!resolved) throw new Error(`${who} has no maturity profile: it reads nothing`);
        view = resolved.view;
        descriptor = resolved.descriptor;
      }

      const gzip = Boolean(o.gzip) || /\.gz$/i.test(file);
      const filters: Filters = o.allVersions ? ALL_VERSIONS : {};
      const counter = { objects: 0 };
      const temporary = `${file}.${process.pid}.partial`;
      const stages: (NodeJS.ReadableStream | Transform | NodeJS.WritableStream)[] = [
        Readable.from(bundleText(collectionBodies(db, collectionId, filters, view, o.pageSize), counter)),
        ...(gzip ? [createGzip()] : []),
        createWriteStream(temporary),
      ];
      try {
        await pipeline(stages);
        await rename(temporary, file);
      } catch (error) {
        await rm(temporary, { force: true });
        const code = (error as NodeJS.ErrnoException).syscall ? (error as NodeJS.ErrnoException).code : undefined;
        if (code) throw new Error(`cannot write ${file}: ${code === 'ENOENT' ? 'no such folder' : code}`, { cause: error });
        throw error;
      }
      const result = { collection: collectionId, file, objects: counter.objects, versions: o.allVersions ? 'all' : 'latest', gzip, view: descriptor };
      ctx.print(result, () =>
        `exported ${plural(counter.objects, 'object')} (${o.allVersions ? 'all versions' : 'latest versions'}) of ${collectionId}` +
        `${descriptor ? ` as seen through profile ${descriptor.profile} revision ${descriptor.revision}` : ''} to ${file}${gzip ? ' (gzipped)' : ''}`,
      );
    });
}
