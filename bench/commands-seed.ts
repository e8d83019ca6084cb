import { DAY_MS } from '../src/core/time.ts';
import { loadSerialSecret } from '../src/serials/serial-key.ts';
import { createSerialVault } from '../src/serials/serial-vault.ts';
import { openStore } from '../src/store/db.ts';
import { PLAN_IDS, SCRIPT_KEYS, type TestTierKey } from '../test/helpers/tiers.ts';

/**
 * The store bench:commands measures against, seeded with raw prepared
 * statements in one transaction (drizzle's per-row mapping would take
 * minutes): members with 0–2 PayPal subscriptions in realistic states, a
 * year or so of monthly payments each (with the audit entry each payment
 * leaves), some staff grants, and each entitled member's serial. The
 * generator is seeded, so every run seeds the same store.
 */

/** mulberry32: a seeded generator, so every run seeds the same store. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ (t + t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(42);
const pick = <T,>(weighted: readonly (readonly [T, number])[]): T => {
  let r = random() * weighted.reduce((s, [, w]) => s + w, 0);
  for (const [v, w] of weighted) if ((r -= w) <= 0) return v;
  return weighted[weighted.length - 1]?.[0] as T;
};
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
const code = (n: number) => Array.from({ length: n }, () => ALPHABET[Math.floor(random() * ALPHABET.length)]).join('');

const PLANS: Record<TestTierKey, string> = { elite: PLAN_IDS.eliteMonthly, legendary: PLAN_IDS.legendaryMonthly, titan: PLAN_IDS.titanMonthly, warlord: PLAN_IDS.warlordMonthly };
const PRICES: Record<TestTierKey, string> = { elite: '4.99', legendary: '9.99', titan: '19.99', warlord: '49.99' };
const TIER_MIX = [['elite', 40], ['legendary', 30], ['titan', 20], ['warlord', 10]] as const;
/** What a member has: most have seen a subscription, a third never paid (joined, looked, left). */
const MEMBER_MIX = [['one-sub', 55], ['two-subs', 5], ['grant', 4], ['sub-and-grant', 1], ['nothing', 35]] as const;
const STATE_MIX = [['active', 78], ['past_due', 4], ['cancelled', 10], ['suspended', 2], ['expired', 3], ['pending', 3]] as const;
export type Kind = (typeof MEMBER_MIX)[number][0];

export interface Seeded {
  members: number;
  subscriptions: number;
  payments: number;
  grants: number;
  /** Audit entries: one per payment, as the webhook path records them, so /admin lookup reads a real history. */
  audit: number;
  ms: number;
  sample: { id: string; kind: Kind }[];
}

export function seed(dbPath: string, now: number, o: { members: number; sampled: number }): Seeded {
  const store = openStore(dbPath); // creates the file and runs the migrations
  const db = store.sqlite;
  const insMember = db.prepare('INSERT INTO members (discord_user_id, entitled_tier, entitled_until, entitled_source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
  const insSub = db.prepare(
    // A paid subscription's plan counts as paid until paid-through (paid_* columns, as applySubscription writes them).
    `INSERT INTO subscriptions (id, member_id, plan_id, tier_key, state, paypal_status, paypal_updated_at, custom_id, next_billing_at, last_payment_at,
       interval_unit, interval_count, paid_through, grace_until, access_until, failed_payments_count, last_failed_payment_at, created_at, updated_at,
       paid_plan_id, paid_tier_key, paid_until)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'MONTH', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insPayment = db.prepare('INSERT INTO payments (id, subscription_id, member_id, amount, currency, state, paid_at, event_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const insAudit = db.prepare("INSERT INTO audit_entries (at, kind, severity, member_id, subscription_id, message) VALUES (?, 'payment.recorded', 'success', ?, ?, ?)");
  const insGrant = db.prepare('INSERT INTO grants (member_id, tier_key, granted_by, reason, starts_at, expires_at, revoked_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  // Each entitled member's serial for what 'elite' unlocks, sealed under the key file the service will use: with none,
  // the service would spend its first minute issuing them in the background, inside the measurements.
  const insSerial = db.prepare("INSERT INTO serials (member_id, script_key, lookup_hash, sealed, status, issued_at, updated_at) VALUES (?, ?, ?, ?, 'active', ?, ?)");
  const vault = createSerialVault(loadSerialSecret({ secret: null, databasePath: dbPath }).secret);
  const addSerial = (memberId: string) => {
    const serial = vault.mint();
    insSerial.run(memberId, SCRIPT_KEYS.starter, vault.lookupHash(serial), vault.seal(serial, { memberId, scriptKey: SCRIPT_KEYS.starter }), now, now);
  };
  const counts = { subscriptions: 0, payments: 0, grants: 0, audit: 0 };
  const sample: Seeded['sample'] = [];
  const every = Math.max(1, Math.floor(o.members / o.sampled));

  const addSubscription = (memberId: string, state: string) => {
    const tier = pick(TIER_MIX);
    const id = `I-${code(12)}`;
    const months = state === 'pending' ? 0 : 1 + Math.floor(random() * 14);
    const lastPayment = state === 'pending' ? null : now - Math.floor(random() * 30 * DAY_MS) - (state === 'expired' || state === 'cancelled' ? 40 * DAY_MS * random() : 0);
    const paidThrough = lastPayment === null ? null : lastPayment + 30 * DAY_MS;
    const access = state === 'active' || state === 'pending' ? null : state === 'past_due' || state === 'suspended' ? (paidThrough ?? now) + 3 * DAY_MS : paidThrough;
    const created = (lastPayment ?? now) - months * 30 * DAY_MS;
    const status = { active: 'ACTIVE', past_due: 'ACTIVE', cancelled: 'CANCELLED', suspended: 'SUSPENDED', expired: 'EXPIRED', pending: 'APPROVAL_PENDING' }[state] ?? 'ACTIVE';
    insSub.run(id, memberId, PLANS[tier], tier, state, status, now - DAY_MS, memberId, state === 'active' ? paidThrough : null, lastPayment, paidThrough, state === 'past_due' ? access : null, access, state === 'past_due' ? 1 : 0, null, created, now, lastPayment === null ? null : PLANS[tier], lastPayment === null ? null : tier, paidThrough);
    counts.subscriptions += 1;
    for (let m = 0; m < months && lastPayment !== null; m++) {
      const refunded = random() < 0.005;
      const paidAt = lastPayment - m * 30 * DAY_MS;
      insPayment.run(code(17), id, memberId, PRICES[tier], 'USD', refunded ? 'refunded' : 'completed', paidAt, `WH-${code(20)}`, now);
      insAudit.run(paidAt, memberId, id, `Payment of ${PRICES[tier]} USD recorded for ${id}`);
      counts.payments += 1;
      counts.audit += 1;
    }
    return { tier, access, state };
  };
  const addGrant = (memberId: string) => {
    const lifetime = random() < 0.4;
    const expires = lifetime ? null : now + (random() - 0.3) * 60 * DAY_MS;
    insGrant.run(memberId, pick(TIER_MIX), '200000000000000001', 'bench', now - 30 * DAY_MS, expires, null, now - 30 * DAY_MS);
    counts.grants += 1;
  };

  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < o.members; i++) {
      const id = String(800000000000000000n + BigInt(i));
      const kind = pick(MEMBER_MIX);
      // entitled_* are a cache /status does not read; a plausible value keeps the rows realistic in size.
      insMember.run(id, kind === 'nothing' ? null : 'elite', null, kind === 'nothing' ? null : 'bench', now - 400 * DAY_MS, now);
      if (kind !== 'nothing') addSerial(id);
      if (kind === 'one-sub' || kind === 'sub-and-grant') addSubscription(id, pick(STATE_MIX));
      if (kind === 'two-subs') {
        addSubscription(id, 'cancelled');
        addSubscription(id, pick(STATE_MIX));
      }
      if (kind === 'grant' || kind === 'sub-and-grant') addGrant(id);
      if (i % every === 0 && sample.length < o.sampled) sample.push({ id, kind });
    }
  })();
  const ms = performance.now() - t0;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  store.close();
  return { members: o.members, ...counts, ms, sample };
}
