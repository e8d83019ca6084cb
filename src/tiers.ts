import { readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseTiers, type TierCatalog } from './core/tiers.ts';
import type { Logger } from './log.ts';

export class TiersFileError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    // One line (problems joined by "; "): it is what `npm start` prints and systemd's journal shows.
    super(`Tiers file ${file} is invalid: ${problems.join('; ')}`);
    this.name = 'TiersFileError';
  }
}

/** What an operator does about a tiers file that cannot be read, by the error code. */
const READ_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'file not found: create it (see tiers.example.yaml) or set TIERS_FILE',
  EISDIR: 'is a directory, not a file: point TIERS_FILE at the YAML file',
  EACCES: "not readable by the service's user (EACCES): fix its owner or mode (e.g. chmod 640)",
  ENOTDIR: 'a part of the path is not a directory: fix TIERS_FILE',
};

/** Reads and validates the tiers file; throws TiersFileError naming the file and every problem. */
export function readTiersFile(file: string): TierCatalog {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TiersFileError(file, [READ_PROBLEMS[code ?? ''] ?? `cannot read it (${code ?? String(err)})`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new TiersFileError(file, [`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  if (doc === null || doc === undefined) throw new TiersFileError(file, ['the file is empty: it needs at least a `tiers:` list (see tiers.example.yaml)']);
  const result = parseTiers(doc);
  if (!result.ok) throw new TiersFileError(file, result.problems);
  return result.catalog;
}

interface FileStamp {
  mtimeMs: number;
  size: number;
  ino: number;
}

function statOf(file: string): FileStamp {
  const s = statSync(file, { throwIfNoEntry: false });
  return s === undefined ? { mtimeMs: 0, size: 0, ino: 0 } : { mtimeMs: s.mtimeMs, size: s.size, ino: s.ino };
}

export interface TiersSource {
  current(): TierCatalog;
  onChange(listener: (catalog: TierCatalog) => void): void;
  close(): void;
}

/**
 * Holds the last good tiers file and reloads it when it changes. Polling the
 * path (not an inotify watch on the inode) survives editors and deploy tools
 * that replace the file by rename. A bad edit is logged and ignored.
 */
export function watchTiers(file: string, log: Logger, intervalMs = 1000): TiersSource {
  // Compare against the version actually loaded, not watchFile's first sample:
  // that sample is taken in the background after we return, so an edit made
  // in between would otherwise become the baseline and never be reloaded.
  let loaded = statOf(file);
  let catalog = readTiersFile(file);
  const listeners: ((c: TierCatalog) => void)[] = [];
  const onStat = (curr: FileStamp) => {
    if (curr.mtimeMs === loaded.mtimeMs && curr.size === loaded.size && curr.ino === loaded.ino) return;
    loaded = curr;
    if (curr.mtimeMs === 0) {
      log.warn({ file }, 'tiers file disappeared; keeping the last good one');
      return;
    }
    try {
      catalog = readTiersFile(file);
    } catch (err) {
      log.error({ file, problems: err instanceof TiersFileError ? err.problems : String(err) }, 'tiers file change rejected; the last good file stays in force');
      return;
    }
    log.info({ file, tiers: catalog.tiers.map((t) => t.key) }, 'tiers file reloaded');
    for (const l of listeners) l(catalog);
  };
  watchFile(file, { interval: intervalMs, persistent: false }, onStat);
  const first = setTimeout(() => onStat(statOf(file)), intervalMs);
  first.unref();
  return {
    current: () => catalog,
    onChange: (l) => listeners.push(l),
    close: () => {
      clearTimeout(first);
      unwatchFile(file, onStat);
    },
  };
}
