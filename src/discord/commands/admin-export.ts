import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { writeMembersCsv } from '../../app/export-members.ts';
import type { Store } from '../../store/db.ts';

/**
 * The member CSV as a file Discord accepts as an attachment. It is streamed
 * into a private temporary directory (it holds every member's payment
 * state) rather than into memory; discord.js reads it back for the upload.
 * A CSV over the interaction's attachment limit (10 MiB on a server without
 * boosts; 100,000 members come to about 12 MB) is sent gzipped, which the
 * ids and ISO dates shrink several times over.
 */

export interface ExportFile {
  path: string;
  /** The attachment's name: members-YYYY-MM-DD.csv, or .csv.gz when compressed. */
  name: string;
  rows: number;
  bytes: number;
  gzipped: boolean;
  /** Removes the temporary directory. */
  dispose(): Promise<void>;
}

/** Null when even the gzipped file is over `limitBytes`: the CLI (`npx concierge export`) has no limit. */
export async function writeExportFile(source: Pick<Store, 'db' | 'sqlite'>, now: number, limitBytes: number): Promise<ExportFile | null> {
  const dir = await mkdtemp(join(tmpdir(), 'concierge-export-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const name = `members-${new Date(now).toISOString().slice(0, 10)}.csv`;
    const csv = join(dir, name);
    const { rows } = await writeMembersCsv(source, createWriteStream(csv, { mode: 0o600 }));
    const size = (await stat(csv)).size;
    if (size <= limitBytes) return { path: csv, name, rows, bytes: size, gzipped: false, dispose };
    const gz = `${csv}.gz`;
    await pipeline(createReadStream(csv), createGzip(), createWriteStream(gz, { mode: 0o600 }));
    const gzSize = (await stat(gz)).size;
    if (gzSize > limitBytes) {
      await dispose();
      return null;
    }
    return { path: gz, name: `${name}.gz`, rows, bytes: gzSize, gzipped: true, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
