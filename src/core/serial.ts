/**
 * Serials (SPEC "Serials"): their format, how a typed one is read back, how
 * staff see one, and which serials a member should hold. Pure: the random
 * characters come in as indices (the store's vault draws them with
 * crypto.randomInt), so the format is tested without randomness.
 */

/**
 * 31 characters without 0/O, 1/I/L: nothing a member can misread when typing a
 * serial from a screenshot. 16 of them carry log2(31^16) ≈ 79 bits, so
 * guessing an issued serial is hopeless even without the per-IP limit.
 */
export const SERIAL_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const SERIAL_PREFIX = 'CNC';
export const SERIAL_GROUPS = 4;
export const SERIAL_GROUP_LENGTH = 4;
/** How many random characters one serial takes. */
export const SERIAL_RANDOM_CHARS = SERIAL_GROUPS * SERIAL_GROUP_LENGTH;

/** `CNC-7K2Q-M9XD-4TRB-PW3H`. */
export const SERIAL_PATTERN = new RegExp(`^${SERIAL_PREFIX}(-[${SERIAL_ALPHABET}]{${SERIAL_GROUP_LENGTH}}){${SERIAL_GROUPS}}$`);

/** Formats 16 indices into SERIAL_ALPHABET as a serial. Throws on anything else: the caller's random draw is wrong. */
export function formatSerial(indices: readonly number[]): string {
  if (indices.length !== SERIAL_RANDOM_CHARS) throw new RangeError(`a serial takes ${SERIAL_RANDOM_CHARS} random characters, got ${indices.length}`);
  const chars = indices.map((i) => {
    const c = Number.isInteger(i) ? SERIAL_ALPHABET[i] : undefined;
    if (c === undefined) throw new RangeError(`serial character index ${i} is outside 0..${SERIAL_ALPHABET.length - 1}`);
    return c;
  });
  const groups: string[] = [];
  for (let g = 0; g < SERIAL_GROUPS; g++) groups.push(chars.slice(g * SERIAL_GROUP_LENGTH, (g + 1) * SERIAL_GROUP_LENGTH).join(''));
  return [SERIAL_PREFIX, ...groups].join('-');
}

/**
 * A serial as typed or pasted (lower case, spaces, a trailing newline) in
 * the form it was issued. Never rejects: the license check hashes and looks
 * up whatever it gets, so a malformed serial costs what an unknown one does.
 */
export function normaliseSerial(input: string): string {
  return input.replace(/\s+/g, '').toUpperCase();
}

/** A script key as a script may send it (`Aimbot-Lite `): keys are lower case (tiers schema). */
export function normaliseScriptKey(input: string): string {
  return input.trim().toLowerCase();
}

/** For staff views and logs: the last group only, enough to tell two serials apart on a support call. */
export function maskSerial(serial: string): string {
  const last = serial.slice(-SERIAL_GROUP_LENGTH);
  return [SERIAL_PREFIX, ...Array.from({ length: SERIAL_GROUPS - 1 }, () => '****'), last].join('-');
}

export type SerialStatus = 'active' | 'suspended';

/** One of a member's serials, opened for display. */
export interface MemberSerial {
  scriptKey: string;
  serial: string;
  status: SerialStatus;
}

/** What changes so a member holds an active serial for exactly the scripts their tier unlocks. */
export interface SerialPlan {
  /** Scripts without a serial yet: issue a new one. */
  issue: string[];
  /** Suspended serials of unlocked scripts: the member is back, the same serial is active again. */
  reactivate: string[];
  /** Active serials of scripts no longer unlocked (lapse, downgrade, script removed from the catalogue). */
  suspend: string[];
}

/**
 * The one serial per member per script is kept for good: it is suspended and
 * reactivated, never replaced, so a member who returns types the serial
 * their scripts already hold.
 */
export function planSerials(held: readonly { scriptKey: string; status: string }[], unlockedKeys: readonly string[]): SerialPlan {
  const unlocked = new Set(unlockedKeys);
  const byScript = new Map(held.map((s) => [s.scriptKey, s.status]));
  return {
    issue: unlockedKeys.filter((k) => !byScript.has(k)),
    reactivate: unlockedKeys.filter((k) => byScript.has(k) && byScript.get(k) !== 'active'),
    suspend: held.filter((s) => s.status === 'active' && !unlocked.has(s.scriptKey)).map((s) => s.scriptKey),
  };
}

export function isEmptyPlan(p: SerialPlan): boolean {
  return p.issue.length === 0 && p.reactivate.length === 0 && p.suspend.length === 0;
}
