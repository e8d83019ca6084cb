import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { writeMembersCsv } from '../app/export-members.ts';
import { loadDatabasePath } from '../config.ts';
import { openReader } from '../store/reader.ts';

/**
 * `npx concierge export [--out file.csv]`: every member as CSV (the same rows
 * as /admin export, with no attachment limit), streamed from the database to
 * stdout or a file. Reads through a query-only connection, so it runs while
 * the service does. A file is written under a temporary name and renamed when
 * complete: a failed export leaves no half file behind. Exit 0 on success, 1
 * on failure.
 */
export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write every member as CSV: Discord id, tier, source, state, paid-through, PayPal subscription id, last payment')
    .option('--out <file>', 'write to this file (mode 0600) instead of standard output')
    .addHelpText('after', '\nCells starting with = + - @ tab or CR are prefixed with \' so spreadsheets do not run them.\nExit codes: 0 written, 1 failed.')
    .action(async (opts: { out?: string }) => {
      process.exitCode = await exportFromCli(opts.out ?? null);
    });
}

async function exportFromCli(out: string | null): Promise<number> {
  const path = loadDatabasePath();
  // An export must not create an empty database where the operator mistyped the path.
  if (path !== ':memory:' && !existsSync(path)) {
    process.stderr.write(`no database at ${path}: set DATABASE_PATH (or run from the directory with .env)\n`);
    return 1;
  }
  const reader = openReader(path);
  const temp = out === null ? null : `${out}.${process.pid}.partial`;
  try {
    const { rows } = await writeMembersCsv(reader, temp === null ? process.stdout : createWriteStream(temp, { mode: 0o600 }));
    if (temp !== null && out !== null) renameSync(temp, out);
    process.stderr.write(`exported ${rows} member(s)${out === null ? '' : ` to ${out}`}\n`);
    return 0;
  } catch (err) {
    if (temp !== null) rmSync(temp, { force: true });
    process.stderr.write(`export failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    reader.close();
  }
}
