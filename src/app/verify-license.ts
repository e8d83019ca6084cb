import { decideLicense, type LicenseVerdict } from '../core/license.ts';
import { normaliseScriptKey, normaliseSerial } from '../core/serial.ts';
import type { Store } from '../store/db.ts';
import { findSerialByHash } from '../store/serial-repo.ts';
import type { SerialVault } from '../serials/serial-vault.ts';
import type { TiersSource } from '../tiers.ts';

export interface LicenseDeps {
  store: Pick<Store, 'db'>;
  tiers: Pick<TiersSource, 'current'>;
  clock: () => number;
  /** Only its keyed hash is used: the license check never opens a serial. */
  vault: Pick<SerialVault, 'lookupHash'>;
}

/**
 * POST /api/v1/licenses/verify's use case: one keyed-hash lookup, then the
 * pure decision. The hash is computed and the lookup made for every request,
 * whatever the input looks like, so an unknown, malformed, suspended or
 * other-script serial all cost the same work and get the same answer.
 */
export function verifyLicense(deps: LicenseDeps, request: { serial: string; script: string }): LicenseVerdict {
  const hash = deps.vault.lookupHash(normaliseSerial(request.serial));
  const found = findSerialByHash(deps.store.db, hash);
  return decideLicense(found, normaliseScriptKey(request.script), deps.tiers.current(), deps.clock());
}
