/**
 * A seeded PRNG (mulberry32) for the crash suite: every random choice of a
 * storm (members, scripts, delays, duplicates, kill moments, retry jitter)
 * comes from it, so a failure can be replayed with CRASH_SEED. The timing of
 * the processes themselves is not seeded: a replay repeats the storm's plan,
 * not each interleaving.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T;
  /** A weighted choice: [[value, weight], ...]. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T;
}

export function createRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (xs) => {
      const x = xs[Math.floor(next() * xs.length)];
      if (x === undefined) throw new Error('pick from an empty list');
      return x;
    },
    weighted: (choices) => {
      const total = choices.reduce((s, [, w]) => s + w, 0);
      let r = next() * total;
      for (const [value, w] of choices) {
        r -= w;
        if (r < 0) return value;
      }
      const last = choices[choices.length - 1];
      if (last === undefined) throw new Error('weighted choice from an empty list');
      return last[0];
    },
  };
}

/** The seed to use: CRASH_SEED when set (a replay), else a fresh one. */
export function crashSeed(): number {
  const given = process.env['CRASH_SEED'];
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 0) throw new Error(`CRASH_SEED must be a non-negative integer, got ${given}`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 31);
}
