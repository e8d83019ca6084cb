import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseTiers, type TierCatalog } from './core/tiers.ts';
import type { Logger } from './log.ts';

export class TiersFileError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`Tiers file ${file} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TiersFileError';
  }
}

/** Reads and validates the tiers file; throws TiersFileError naming the file and every problem. */
export function readTiersFile(file: string): TierCatalog {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TiersFileError(file, [code === 'ENOENT' ? 'file not found: create it (see tiers.example.yaml) or set TIERS_FILE' : `cannot read it (${code ?? String(err)})`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new TiersFileError(file, [`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  const result = parseTiers(doc);
  if (!result.ok) throw new TiersFileError(file, result.problems);
  return result.catalog;
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
  let catalog = readTiersFile(file);
  const listeners: ((c: TierCatalog) => void)[] = [];
  const onStat = (curr: { mtimeMs: number; size: number; ino: number }, prev: { mtimeMs: number; size: number; ino: number }) => {
    if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino) return;
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
  return {
    current: () => catalog,
    onChange: (l) => listeners.push(l),
    close: () => unwatchFile(file, onStat),
  };
}

/** A fixed catalog (tests, CLI commands that do not need reload). */
export function staticTiers(catalog: TierCatalog): TiersSource {
  return { current: () => catalog, onChange: () => {}, close: () => {} };
}
