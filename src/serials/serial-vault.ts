import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomInt } from 'node:crypto';
import { formatSerial, SERIAL_ALPHABET, SERIAL_RANDOM_CHARS } from '../core/serial.ts';

/**
 * How serials are kept at rest. The database never holds a serial in clear:
 * a lookup hash (HMAC-SHA256) finds a row from a serial a script sends, a
 * sealed copy (AES-256-GCM) shows it back to its member. Both keys are
 * derived (HKDF-SHA256) from one secret that lives outside the database
 * (SERIAL_SECRET or the key file, serials/serial-key.ts), so a stolen copy of
 * the database or a backup yields neither serials nor a way to test guesses.
 */
export interface SerialVault {
  /** A new serial: 16 characters of SERIAL_ALPHABET drawn with crypto.randomInt (uniform, no modulo bias). */
  mint(): string;
  /** HMAC-SHA256 of the serial (normalised by the caller), 32 bytes. */
  lookupHash(serial: string): Buffer;
  /** Encrypts the serial, bound to its member and script: a sealed copy moved to another row does not open. */
  seal(serial: string, owner: SerialOwner): Buffer;
  /** Opens what seal produced for the same owner; throws when the key or the owner differ. */
  open(sealed: Buffer, owner: SerialOwner): string;
}

export interface SerialOwner {
  memberId: string;
  scriptKey: string;
}

/** The first byte of every sealed serial: a later format (or key rotation) gets another. */
const SEALED_V1 = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

function subkey(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `concierge serials ${purpose} v1`, 32));
}

function ownerData(owner: SerialOwner): Buffer {
  return Buffer.from(`${owner.memberId}\u0000${owner.scriptKey}`, 'utf8');
}

export function createSerialVault(secret: Buffer): SerialVault {
  if (secret.length < 32) throw new RangeError('the serial secret must be at least 32 bytes');
  const hashKey = subkey(secret, 'lookup');
  const sealKey = subkey(secret, 'seal');
  return {
    mint: () => formatSerial(Array.from({ length: SERIAL_RANDOM_CHARS }, () => randomInt(SERIAL_ALPHABET.length))),
    lookupHash: (serial) => createHmac('sha256', hashKey).update(serial, 'utf8').digest(),
    seal: (serial, owner) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
      cipher.setAAD(ownerData(owner));
      const body = Buffer.concat([cipher.update(serial, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.of(SEALED_V1), iv, body, cipher.getAuthTag()]);
    },
    open: (sealed, owner) => {
      if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== SEALED_V1) throw new Error('not a sealed serial of a known format');
      const iv = sealed.subarray(1, 1 + IV_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', sealKey, iv);
      decipher.setAAD(ownerData(owner));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}
