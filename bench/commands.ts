import { recordFigure } from './figures.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { readMemberOverview } from '../src/app/member-overview.ts';
import { statusEmbed } from '../src/core/member-summary.ts';
import { DAY_MS } from '../src/core/time.ts';
import { openStore } from '../src/store/db.ts';
import * as schema from '../src/store/schema.ts';
import { bindSerialKey, loadSerialSecret } from '../src/serials/serial-key.ts';
import { attachSerialVault, createSerialVault } from '../src/serials/serial-vault.ts';
import { startHarness, type Harness } from '../test/helpers/harness.ts';
import { PLAN_IDS, SCRIPT_KEYS, testCatalog, type TestTierKey } from '../test/helpers/tiers.ts';

/**
 * npm run bench:commands — /status (and /scripts, /cancel's first answer)
 * latency over a store of MEMBERS members, through the REAL discord.js
 * client and the Discord stand-in.
 *
 * The store is seeded with raw prepared statements in one transaction
 * (drizzle's per-row mapping would take minutes): members with 0–2 PayPal
 * subscriptions in realistic states, a year or so of monthly payments each,
 * and some staff grants. Then Concierge starts on that file (startService via
 * the test harness) and SAMPLED members, spread evenly over the store, join
 * the Discord stand-in and run the commands.
 *
 * Latency = from the stand-in dispatching INTERACTION_CREATE to it receiving
 * the interaction callback (handle.response().elapsedMs): gateway message,
 * discord.js parsing, our handler and its store reads, the REST callback.
 * Everything runs in one Node process (Concierge + both stand-ins), so the
 * stand-ins' own work is inside the figures.
 */

const MEMBERS = Number(process.env['BENCH_MEMBERS'] ?? 100_000);
const SAMPLED = 2_000;
const SEQUENTIAL = Number(process.env['BENCH_SEQUENTIAL'] ?? 1_000);
const WARMUP = 100;
const CONCURRENCY = [10, 50];
const CONCURRENT_REQUESTS = 500;
const OTHER_COMMANDS = 300;
const TARGET_P99_MS = 50;

const dir = mkdtempSync(join(tmpdir(), 'concierge-bench-commands-'));
const dbPath = join(dir, 'concierge.db');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------- seed
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
type Kind = (typeof MEMBER_MIX)[number][0];

interface Seeded {
  members: number;
  subscriptions: number;
  payments: number;
  grants: number;
  ms: number;
  sample: { id: string; kind: Kind }[];
}

function seed(now: number): Seeded {
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
  const insGrant = db.prepare('INSERT INTO grants (member_id, tier_key, granted_by, reason, starts_at, expires_at, revoked_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  // Each entitled member's serial for what 'elite' unlocks, sealed under the key file the service will use: with none,
  // the service would spend its first minute issuing them in the background, inside the measurements.
  const insSerial = db.prepare("INSERT INTO serials (member_id, script_key, lookup_hash, sealed, status, issued_at, updated_at) VALUES (?, ?, ?, ?, 'active', ?, ?)");
  const vault = createSerialVault(loadSerialSecret({ secret: null, databasePath: dbPath }).secret);
  const addSerial = (memberId: string) => {
    const serial = vault.mint();
    insSerial.run(memberId, SCRIPT_KEYS.starter, vault.lookupHash(serial), vault.seal(serial, { memberId, scriptKey: SCRIPT_KEYS.starter }), now, now);
  };
  const counts = { subscriptions: 0, payments: 0, grants: 0 };
  const sample: Seeded['sample'] = [];
  const every = Math.max(1, Math.floor(MEMBERS / SAMPLED));

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
      insPayment.run(code(17), id, memberId, PRICES[tier], 'USD', refunded ? 'refunded' : 'completed', lastPayment - m * 30 * DAY_MS, `WH-${code(20)}`, now);
      counts.payments += 1;
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
    for (let i = 0; i < MEMBERS; i++) {
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
      if (i % every === 0 && sample.length < SAMPLED) sample.push({ id, kind });
    }
  })();
  const ms = performance.now() - t0;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  store.close();
  return { members: MEMBERS, ...counts, ms, sample };
}

// ---------------------------------------------------------------- query plans
/** The SQL behind /status, captured as executed, and SQLite's plan for each. */
function queryPlans(memberId: string): { sql: string; plan: string }[] {
  const seen: string[] = [];
  const sqlite = new Database(dbPath, { readonly: true, verbose: (m: unknown) => seen.push(String(m)) });
  try {
    const db = drizzle(sqlite, { schema });
    attachSerialVault(db, createSerialVault(loadSerialSecret({ secret: null, databasePath: dbPath }).secret));
    readMemberOverview({ db }, memberId);
    return seen
      .filter((s) => /^select/i.test(s))
      .map((sql) => ({ sql, plan: sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all().map((r) => (r as { detail: string }).detail).join('; ') }));
  } finally {
    sqlite.close();
  }
}

// ---------------------------------------------------------------- measure
const pct = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

async function timed(h: Harness, name: 'status' | 'scripts' | 'cancel', userId: string): Promise<number> {
  const r = await h.discord.interact({ type: 'command', name, userId }).response(10_000);
  if (!r.accepted || r.type !== 4) throw new Error(`/${name} for ${userId}: callback type ${r.type}, status ${r.status}`);
  return r.elapsedMs;
}

async function sequential(h: Harness, name: 'status' | 'scripts' | 'cancel', ids: readonly string[], n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await timed(h, name, ids[i % ids.length] ?? ''));
  return out;
}

async function concurrent(h: Harness, ids: readonly string[], total: number, concurrency: number): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        out.push(await timed(h, 'status', ids[(i * 7) % ids.length] ?? ''));
      }
    }),
  );
  return out;
}

const now = Date.now();
const seeded = seed(now);
const ids = seeded.sample.map((s) => s.id);
const plans = queryPlans(seeded.sample.find((s) => s.kind === 'two-subs')?.id ?? ids[0] ?? '');

// Store + pure builder alone, no Discord: what the 100k rows cost per /status.
const store = bindSerialKey(openStore(dbPath, { migrate: false }), { secret: null, databasePath: dbPath });
const catalog = testCatalog();
const direct: number[] = [];
for (let i = 0; i < 10_000; i++) {
  const t0 = performance.now();
  statusEmbed(readMemberOverview(store, ids[(i * 13) % ids.length] ?? ''), catalog, now);
  direct.push((performance.now() - t0) * 1000);
}
store.close();

const h = await startHarness({ env: { DATABASE_PATH: dbPath }, discord: { members: seeded.sample.map((s) => ({ id: s.id })) } });
let results: { label: string; samples: number[]; perSecond?: number }[];
try {
  await sequential(h, 'status', ids, WARMUP);
  results = [{ label: `/status sequential ×${SEQUENTIAL}`, samples: await sequential(h, 'status', ids.slice(WARMUP), SEQUENTIAL) }];
  for (const c of CONCURRENCY) {
    // A first burst at this width opens discord.js's extra connections to the stand-in (measured: ~4 ms each, one after another).
    await concurrent(h, ids, c * 2, c);
    const t0 = performance.now();
    const samples = await concurrent(h, ids, CONCURRENT_REQUESTS, c);
    results.push({ label: `/status ${c} in flight ×${CONCURRENT_REQUESTS}`, samples, perSecond: CONCURRENT_REQUESTS / ((performance.now() - t0) / 1000) });
  }
  results.push({ label: `/scripts sequential ×${OTHER_COMMANDS}`, samples: await sequential(h, 'scripts', ids, OTHER_COMMANDS) });
  // Distinct members: /cancel has a 5 s per-member cooldown.
  results.push({ label: `/cancel (first answer) sequential ×${OTHER_COMMANDS}`, samples: await sequential(h, 'cancel', ids.slice(-OTHER_COMMANDS), OTHER_COMMANDS) });
} finally {
  await h.close();
}

// ---------------------------------------------------------------- report
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
console.log(`\nnpm run bench:commands — in-process (Concierge + both stand-ins in one Node process); Node ${process.version}; ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`store: ${seeded.members.toLocaleString('en')} members, ${seeded.subscriptions.toLocaleString('en')} subscriptions, ${seeded.payments.toLocaleString('en')} payments, ${seeded.grants.toLocaleString('en')} grants (seeded in ${(seeded.ms / 1000).toFixed(1)} s); ${SAMPLED} of them in the Discord guild\n`);
console.log('query plans behind /status:');
for (const p of plans) console.log(`  ${p.plan}\n    ← ${p.sql.replace(/\s+/g, ' ').slice(0, 140)}`);
console.log(`\nstore reads + embed, no Discord (10,000 calls): p50 ${pct(sorted(direct), 50).toFixed(0)} µs, p99 ${pct(sorted(direct), 99).toFixed(0)} µs, max ${Math.max(...direct).toFixed(0)} µs\n`);
console.log('interaction created → callback received at the Discord stand-in, ms:');
console.log(row(['run', 'p50', 'p95', 'p99', 'max', 'interactions/s']));
console.log(row(['---', '---', '---', '---', '---', '---']));
for (const r of results) {
  const s = sorted(r.samples);
  console.log(row([r.label, ...[50, 95, 99].map((p) => pct(s, p).toFixed(1)), (s.at(-1) ?? NaN).toFixed(1), r.perSecond === undefined ? 'one at a time' : r.perSecond.toFixed(0)]));
}
console.log('(with N in flight a closed loop measures queueing: latency ≈ N ÷ throughput of the one process running bot and stand-ins)');
const seqP99 = pct(sorted(results[0]?.samples ?? []), 99);
const usesIndexes = plans.length === 4 && plans.every((p) => /USING (INDEX|PRIMARY KEY|COVERING INDEX)/.test(p.plan) && !/SCAN (members|subscriptions|payments|grants|serials)\b(?! USING)/.test(p.plan));
recordFigure({ bench: 'commands', figure: `/status p99 with ${seeded.members.toLocaleString('en')} members`, goal: `< ${TARGET_P99_MS} ms`, measured: seqP99, unit: 'ms', pass: seqP99 < TARGET_P99_MS && usesIndexes });
console.log(`\ntargets: /status p99 < ${TARGET_P99_MS} ms (sequential) → ${seqP99 < TARGET_P99_MS ? 'met' : 'MISSED'}; every /status query on an index → ${usesIndexes ? 'yes' : 'NO'}`);
process.exit(0);
