import { recordFigure } from './figures.ts';
import { and, eq, inArray } from 'drizzle-orm';
import { createLogger } from '../src/log.ts';
import { ensureMember, setMemberEntitlement } from '../src/store/member-repo.ts';
import { jobs } from '../src/store/schema.ts';
import { UNMANAGED_ROLE, startHarness, type Harness } from '../test/helpers/harness.ts';
import { PLAN_IDS, ROLE_IDS, type TestTierKey } from '../test/helpers/tiers.ts';

/**
 * npm run bench:roles — Discord role sync against the stand-ins, with the
 * REAL discord.js client and the real PayPal SDK.
 *
 * (a) webhook → role: signed BILLING.SUBSCRIPTION.ACTIVATED webhooks, one
 *     new member each, sent open-loop at ACTIVATION_RATE a second (each is
 *     done long before the next, so effectively sequential); latency from
 *     just before the POST to the moment the Discord stand-in logged the
 *     role PUT. The rate keeps the ~5 Discord requests per activation
 *     (GET member, PUT role, DM channel, DM, audit embed) under Discord's
 *     global 50 a second.
 * (b) bulk resync of RESYNC_MEMBERS members (400 missing their role, 300
 *     holding one they lost, 150 on the wrong tier = 2 changes, 150 right:
 *     1,000 changes) against the member-role bucket ROLE_LIMIT per
 *     ROLE_WINDOW_MS; elapsed from resyncAll() to the last role-sync job
 *     done, against the floor changes ÷ allowed rate; 429s the stand-in sent.
 *
 * Both run in-process: Concierge (startService via the test harness), the
 * PayPal and Discord stand-ins share one Node process and event loop, so the
 * stand-ins' own work is inside the measured latency.
 */

const ACTIVATIONS = Number(process.env['BENCH_ACTIVATIONS'] ?? 200);
const WARMUP = 10;
const ACTIVATION_RATE = Number(process.env['BENCH_ACTIVATION_RATE'] ?? 8);
const RESYNC_MEMBERS = 1000;
const ROLE_LIMIT = Number(process.env['BENCH_ROLE_LIMIT'] ?? 50);
const ROLE_WINDOW_MS = Number(process.env['BENCH_ROLE_WINDOW_MS'] ?? 1000);
const MODE = 'in-process (Concierge + both stand-ins in one Node process)';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
const pendingRoleSyncs = (h: Harness) =>
  h.service.store.db.select().from(jobs).where(and(eq(jobs.kind, 'role-sync'), inArray(jobs.status, ['queued', 'running']))).all().length;

let nextId = 900000000000000000n;
const newId = () => String(++nextId);

// ---------------------------------------------------------------- (a)
async function webhookToRole(): Promise<{ samples: number[]; errors: number; roleLimit: string }> {
  const ids = Array.from({ length: WARMUP + ACTIVATIONS }, newId);
  const h = await startHarness({
    discord: { roleLimit: ROLE_LIMIT, roleWindowMs: ROLE_WINDOW_MS, members: ids.map((id) => ({ id, roles: [UNMANAGED_ROLE] })) },
  });
  const samples: number[] = [];
  let errors = 0;
  try {
    const pending: Promise<void>[] = [];
    const start = performance.now();
    ids.forEach((memberId, i) => {
      const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: memberId });
      h.paypal.approve(s.id);
      const event = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id);
      const path = new RegExp(`^/guilds/\\d+/members/${memberId}/roles/${ROLE_IDS.elite}$`);
      pending.push(
        (async () => {
          // Open loop: each activation at its slot, whatever the previous one is doing.
          await sleep(start + (i * 1000) / ACTIVATION_RATE - performance.now());
          const t0 = Date.now();
          const res = await h.deliver(event);
          if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${res.body}`);
          await h.discord.waitForCalls('PUT', path, 1, 10_000);
          const put = h.discord.requests.find((r) => r.method === 'PUT' && path.test(r.path));
          if (put === undefined) throw new Error(`no PUT logged for ${memberId}`);
          if (i >= WARMUP) samples.push(put.at.getTime() - t0);
        })().catch((err: unknown) => {
          errors += 1;
          process.stderr.write(`activation ${i}: ${err instanceof Error ? err.message : String(err)}\n`);
        }),
      );
    });
    await Promise.all(pending);
    await h.waitFor(() => pendingRoleSyncs(h) === 0, 10_000).catch(() => undefined);
    const hits = h.discord.rateLimitHits();
    if (hits.bucket + hits.global > 0) process.stderr.write(`(a) 429s: ${JSON.stringify(hits)}\n`);
  } finally {
    await h.close();
  }
  return { samples: samples.sort((a, b) => a - b), errors, roleLimit: `${ROLE_LIMIT} per ${ROLE_WINDOW_MS} ms` };
}

// ---------------------------------------------------------------- (b)
interface Member {
  id: string;
  tier: TestTierKey | null;
  holds: TestTierKey[];
}

async function bulkResync() {
  const members: Member[] = [];
  const add = (n: number, tier: TestTierKey | null, holds: TestTierKey[]) => {
    for (let i = 0; i < n; i++) members.push({ id: newId(), tier, holds });
  };
  add(400, 'elite', []); // entitled, role missing → PUT
  add(300, null, ['titan']); // role held, no longer entitled → DELETE
  add(150, 'warlord', ['legendary']); // wrong tier → PUT + DELETE
  add(150, 'legendary', ['legendary']); // already right → nothing
  if (members.length !== RESYNC_MEMBERS) throw new Error('member mix does not add up');
  const changes = 400 + 300 + 150 * 2;

  const progress: string[] = [];
  const log = createLogger('info', {
    write(line: string) {
      if (line.includes('"msg":"resync')) progress.push(line);
    },
  });
  const h = await startHarness({
    log,
    discord: {
      roleLimit: ROLE_LIMIT,
      roleWindowMs: ROLE_WINDOW_MS,
      members: members.map((m) => ({ id: m.id, roles: [UNMANAGED_ROLE, ...m.holds.map((k) => ROLE_IDS[k])] })),
    },
  });
  try {
    h.service.store.transaction((tx) => {
      for (const m of members) {
        if (m.tier === null) continue;
        ensureMember(tx, m.id, h.now());
        setMemberEntitlement(tx, m.id, { tier: m.tier, until: null, source: 'bench' }, h.now());
      }
    });
    h.discord.clearRequests();
    const t0 = performance.now();
    const { members: queued } = await h.service.resyncAll();
    const queuedMs = performance.now() - t0;
    await h.waitFor(() => pendingRoleSyncs(h) === 0, 120_000);
    const elapsedMs = performance.now() - t0;

    const roleCalls = h.discord.requests.filter((r) => /\/members\/\d+\/roles\//.test(r.path));
    const applied = roleCalls.filter((r) => r.status === 204).length;
    const hits = h.discord.rateLimitHits();
    let wrong = 0;
    for (const m of members) {
      const want = [h.discord.roleId(UNMANAGED_ROLE), ...(m.tier === null ? [] : [ROLE_IDS[m.tier]])].sort().join();
      if ((h.discord.member(m.id) ?? []).sort().join() !== want) wrong += 1;
    }
    const memberGets = h.discord.requests.filter((r) => r.method === 'GET' && /\/members\/\d+$/.test(r.path)).length;
    return { queued, queuedMs, elapsedMs, changes, applied, roleCalls: roleCalls.length, hits, wrong, memberGets, progress: progress.length };
  } finally {
    await h.close();
  }
}

// ---------------------------------------------------------------- run
const a = await webhookToRole();
const b = await bulkResync();

const floorMs = (b.changes / ROLE_LIMIT) * ROLE_WINDOW_MS;
const ratio = b.elapsedMs / floorMs;
const share429 = (b.hits.bucket + b.hits.global) / Math.max(1, b.roleCalls);
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

console.log(`\nnpm run bench:roles — ${MODE}; Node ${process.version}`);
console.log(`Discord stand-in member-role limit: ${ROLE_LIMIT} per ${ROLE_WINDOW_MS} ms per guild; global 50 req/s\n`);
console.log(`(a) webhook → role PUT at the Discord stand-in: ${a.samples.length} activations (+${WARMUP} warm-up), ${ACTIVATION_RATE}/s open loop`);
console.log(row(['p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'target']));
console.log(row(['---', '---', '---', '---', '---', '---']));
console.log(row([pct(a.samples, 50), pct(a.samples, 90), pct(a.samples, 99), a.samples.at(-1) ?? NaN].map((n) => n.toFixed(0)).concat([String(a.errors), 'p50 < 30, p99 < 200'])));
console.log(`\n(b) bulk resync of ${b.queued} members, ${b.changes} role changes needed`);
console.log(row(['queued in ms', 'elapsed s', 'floor s', 'elapsed/floor', 'role calls', '204s', '429s (bucket/global)', '429 share', 'member GETs', 'wrong after', 'progress log lines']));
console.log(row(Array(11).fill('---')));
console.log(
  row([
    b.queuedMs.toFixed(0),
    (b.elapsedMs / 1000).toFixed(2),
    (floorMs / 1000).toFixed(2),
    ratio.toFixed(3),
    String(b.roleCalls),
    String(b.applied),
    `${b.hits.bucket}/${b.hits.global}`,
    `${(share429 * 100).toFixed(2)}%`,
    String(b.memberGets),
    String(b.wrong),
    String(b.progress),
  ]),
);
recordFigure({ bench: 'roles', figure: 'webhook → role p50', goal: '< 30 ms', measured: pct(a.samples, 50), unit: 'ms', pass: pct(a.samples, 50) < 30 });
recordFigure({ bench: 'roles', figure: 'webhook → role p99', goal: '< 200 ms', measured: pct(a.samples, 99), unit: 'ms', pass: pct(a.samples, 99) < 200 });
recordFigure({ bench: 'roles', figure: 'bulk resync time ÷ rate-limit floor', goal: '≤ 1.1', measured: ratio, unit: '×', pass: ratio <= 1.1 });
recordFigure({ bench: 'roles', figure: 'bulk resync 429 share', goal: '< 1%', measured: share429 * 100, unit: '%', pass: share429 < 0.01 });
console.log(`\ntargets: elapsed/floor ≤ 1.1 → ${ratio <= 1.1 ? 'met' : 'MISSED'}; 429s < 1% → ${share429 < 0.01 ? 'met' : 'MISSED'}; p50 < 30 ms → ${pct(a.samples, 50) < 30 ? 'met' : 'MISSED'}; p99 < 200 ms → ${pct(a.samples, 99) < 200 ? 'met' : 'MISSED'}`);
process.exit(0);
