import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseSerialSecret, SERIAL_SECRET_MIN_BYTES } from '../config.ts';
import { ConciergeError } from '../errors.ts';
import type { Store } from '../store/db.ts';
import { restrictToOwner } from '../store/file-modes.ts';
import { sampleSerialRow } from '../store/serial-repo.ts';
import { createSerialVault, type SerialVault } from './serial-vault.ts';

/**
 * The secret serials are kept under (serials/serial-vault.ts). It must not be
 * in the database, or a stolen copy would carry its own key. SERIAL_SECRET
 * when the operator sets it (kept with the other secrets, e.g. a systemd
 * credential); otherwise a key file `serial.key` next to the database,
 * created on first start with 32 random bytes and mode 0600. Backups copy
 * only the database, so a leaked backup does not include it.
 */

export const SERIAL_KEY_FILE = 'serial.key';

/** Where the key file lives for a database; null for an in-memory database, which keeps nothing to protect. */
export function serialKeyFilePath(databasePath: string): string | null {
  return databasePath === ':memory:' || databasePath === '' ? null : join(dirname(resolve(databasePath)), SERIAL_KEY_FILE);
}

/** SERIAL_SECRET, else the key file (created 0600 on first start), else for an in-memory database a key for this run. */
export function loadSerialSecret(o: { secret: Buffer | null; databasePath: string }): { secret: Buffer; source: string } {
  if (o.secret !== null) return { secret: o.secret, source: 'SERIAL_SECRET' };
  const file = serialKeyFilePath(o.databasePath);
  if (file === null) return { secret: randomBytes(SERIAL_SECRET_MIN_BYTES), source: 'in-memory database' };
  createKeyFile(file);
  restrictToOwner([file]);
  const parsed = parseSerialSecret(readFileSync(file, 'utf8'));
  if (typeof parsed === 'string') {
    throw new ConciergeError('serial_key_invalid', `serial key file ${file} ${parsed}; restore it from where you keep it, or set SERIAL_SECRET`, { retry: false });
  }
  return { secret: parsed, source: file };
}

/**
 * Creates the key file unless it exists. Written under a temporary name and
 * linked into place: link fails when the name exists, so of two processes
 * starting at once one creates it and the other reads a complete file.
 */
function createKeyFile(file: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${randomBytes(SERIAL_SECRET_MIN_BYTES).toString('hex')}\n`, { mode: 0o600 });
  try {
    linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(temp);
  }
}

/**
 * Loads the serial secret and checks that it opens the serials the database
 * already holds: the vault every use case that issues or shows serials is
 * handed (app/member-effects.ts). A database moved without its key (or a
 * changed SERIAL_SECRET) stops the start with the fix: issuing under a new
 * key would leave every existing serial unverifiable.
 */
export function openSerialVault(store: Pick<Store, 'db'>, o: { secret: Buffer | null; databasePath: string }): SerialVault {
  const { secret, source } = loadSerialSecret(o);
  const vault = createSerialVault(secret);
  const sample = sampleSerialRow(store.db);
  if (sample !== null) {
    try {
      vault.open(sample.sealed, sample);
    } catch (cause) {
      throw new ConciergeError(
        'serial_key_mismatch',
        `the serials in ${o.databasePath} were sealed with another key than ${source}: set SERIAL_SECRET to the key they were issued under, or restore the ${SERIAL_KEY_FILE} file that was next to the database`,
        { retry: false, cause },
      );
    }
  }
  return vault;
}
