import { createHash, randomBytes } from 'node:crypto';

/**
 * Identifiers in Discord's formats. Snowflakes are real ones (ms since the
 * Discord epoch << 22), so they have 18–19 digits like production ids:
 * discord.js keys its rate-limit queues on them and some code sorts by them.
 */

const DISCORD_EPOCH = 1_420_070_400_000n;
let lastMs = 0n;
let increment = 0n;

/** A fresh, strictly increasing snowflake. */
export function snowflake(at: number = Date.now()): string {
  let ms = BigInt(at) - DISCORD_EPOCH;
  if (ms < lastMs) ms = lastMs;
  if (ms === lastMs) {
    increment += 1n;
    if (increment > 0xfffn) {
      ms += 1n; // 4096 ids in one ms: borrow the next one, as order matters more than the clock
      increment = 0n;
    }
  } else {
    increment = 0n;
  }
  lastMs = ms;
  return ((ms << 22n) | (1n << 17n) | (1n << 12n) | increment).toString();
}

/** When a snowflake was made, in ms since the Unix epoch. */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

function base64Url(buf: Buffer): string {
  return buf.toString('base64url');
}

/**
 * A bot token shaped like a real one: base64(bot user id) . base64(time) . HMAC-ish tail.
 * Code that derives the application id from the token's first segment works.
 */
export function botToken(botUserId: string): string {
  const head = Buffer.from(botUserId).toString('base64').replace(/=+$/, '');
  const time = base64Url(Buffer.from(Math.floor(Date.now() / 1000).toString(16), 'hex'));
  return `${head}.${time}.${base64Url(randomBytes(28))}`;
}

/** Interaction tokens are long opaque strings; real ones start with base64("interaction:"). */
export function interactionToken(interactionId: string): string {
  return `aW50ZXJhY3Rpb246${Buffer.from(`${interactionId}:${randomBytes(48).toString('hex')}`).toString('base64url')}`;
}

/** A stable 32-hex-digit bucket hash, like `X-RateLimit-Bucket`. */
export function bucketHash(key: string): string {
  return createHash('sha1').update(`bucket:${key}`).digest('hex').slice(0, 32);
}

export function sessionId(): string {
  return randomBytes(16).toString('hex');
}
