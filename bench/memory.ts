import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { recordFigure } from './figures.ts';
import { benchNodeFlags } from './node-flags.ts';
import { DAY_MS } from '../src/core/time.ts';
import { freePort } from '../src/demo/stage.ts';
import { createPaypalStandIn } from '../src/stand-ins/paypal/server.ts';
import { openStore } from '../src/store/db.ts';
import { loadSerialSecret } from '../src/serials/serial-key.ts';
import { createSerialVault } from '../src/serials/serial-vault.ts';
import { TEST_WEBHOOK_ID, createTestDiscord, discordEnv, testEnv } from '../test/helpers/harness.ts';
import { FIXTURE_PLANS, PLAN_IDS, ROLE_IDS, SCRIPT_KEYS } from '../test/helpers/tiers.ts';

/**
 * npm run bench:memory — the memory of the service process (`npm start`: the
 * compiled dist/, built first with `npm run build`; BENCH_FROM_SOURCE=1 runs
 * src/main.ts through tsx instead) in a community of MEMBERS members.
 *
 * The Discord stand-in holds MEMBERS members; the store holds one PayPal
 * subscription for each: all but WEBHOOKS active at Elite (with their serial,
 * so the service does not spend the run issuing them), WEBHOOKS awaiting
 * approval. Then, each step measured on the service's process (VmRSS and the
 * kernel's high-water mark VmHWM from /proc/<pid>/status, V8's heap from its
 * own /metrics):
 *   idle     after start-up, IDLE_MS with nothing to do;
 *   resync   a full bulk resync (the stand-in invalidates the gateway session,
 *            as Discord does; the new session resyncs every member): every
 *            member fetched over the gateway, one role-sync job each, 1% of
 *            them missing their role, until the last job is done;
 *   webhooks WEBHOOKS signed BILLING.SUBSCRIPTION.ACTIVATED, CONCURRENCY at a
 *            time, until every job they caused (role, DM, audit) is done;
 *   settled  IDLE_MS later.
 * The stand-ins run in this process, so only Concierge's memory is measured.
 * BENCH_MEMBERS=0 measures a service with an empty guild and store (idle RSS).
 */

const MEMBERS = Number(process.env['BENCH_MEMBERS'] ?? 100_000);
const WEBHOOKS = Math.min(MEMBERS, Number(process.env['BENCH_WEBHOOKS'] ?? 1_000));
const IDLE_MS = Number(process.env['BENCH_IDLE_MS'] ?? 15_000);
const FROM_SOURCE = process.env['BENCH_FROM_SOURCE'] === '1';
/** The compiled build to run (default dist/); another one, e.g. a copy of an older build, for a before/after comparison. */
const DIST = process.env['BENCH_DIST'] ?? 'dist';
const CONCURRENCY = 20;
const GOAL_MB = 150;
/** Every 100th member lacks the role they paid for: the resync has 1% of the members to change. */
const MISSING_EVERY = 100;

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'concierge-bench-memory-'));
const dbPath = join(dir, 'concierge.db');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const memberId = (i: number) => String(800000000000000000n + BigInt(i));

// ---------------------------------------------------------------- seed
/** The store as the service finds it: raw prepared statements in one transaction (drizzle's row mapping would take minutes). */
function seed(now: number, pending: ReadonlyMap<string, string>): void {
  const store = openStore(dbPath); // creates the file and runs the migrations
  const db = store.sqlite;
  const insMember = db.prepare('INSERT INTO members (discord_user_id, entitled_tier, entitled_until, entitled_source, created_at, updated_at) VALUES (?, ?, NULL, ?, ?, ?)');
  const insSub = db.prepare(
    `INSERT INTO subscriptions (id, member_id, plan_id, tier_key, state, paypal_status, paypal_updated_at, custom_id, next_billing_at, last_payment_at,
       interval_unit, interval_count, paid_through, created_at, updated_at, paid_plan_id, paid_tier_key, paid_until)
     VALUES (?, ?, ?, 'elite', ?, ?, ?, ?, ?, ?, 'MONTH', 1, ?, ?, ?, ?, ?, ?)`,
  );
  const insSerial = db.prepare("INSERT INTO serials (member_id, script_key, lookup_hash, sealed, status, issued_at, updated_at) VALUES (?, ?, ?, ?, 'active', ?, ?)");
  const vault = createSerialVault(loadSerialSecret({ secret: null, databasePath: dbPath }).secret);
  const paidThrough = now + 20 * DAY_MS;
  db.transaction(() => {
    for (let i = 0; i < MEMBERS; i++) {
      const id = memberId(i);
      const waiting = pending.get(id);
      insMember.run(id, waiting === undefined ? 'elite' : null, waiting === undefined ? 'bench' : null, now - 400 * DAY_MS, now);
      if (waiting !== undefined) {
        insSub.run(waiting, id, PLAN_IDS.eliteMonthly, 'pending', 'APPROVAL_PENDING', now, id, null, null, null, now, now, null, null, null);
        continue;
      }
      insSub.run(`I-BENCH${String(i).padStart(10, '0')}`, id, PLAN_IDS.eliteMonthly, 'active', 'ACTIVE', now, id, paidThrough, paidThrough - 30 * DAY_MS, paidThrough, now - 200 * DAY_MS, now, PLAN_IDS.eliteMonthly, 'elite', paidThrough);
      const serial = vault.mint();
      insSerial.run(id, SCRIPT_KEYS.starter, vault.lookupHash(serial), vault.seal(serial, { memberId: id, scriptKey: SCRIPT_KEYS.starter }), now, now);
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  store.close();
}

// ---------------------------------------------------------------- the service process
/**
 * The Node flags and glibc arena limit the service runs with in production: those of the systemd unit's ExecStart
 * and Environment= lines (none today; package.json's `start` must repeat any added). BENCH_UNIT_FLAGS=0 runs
 * without them.
 */
function productionSettings(): { flags: string[]; mallocArenaMax: string | undefined } {
  if (process.env['BENCH_UNIT_FLAGS'] === '0') return { flags: [], mallocArenaMax: undefined };
  const unit = readFileSync(join(ROOT, 'infrastructure/concierge.service'), 'utf8');
  const exec = /^ExecStart=\S*node((?: --\S+)*) dist\/main\.js$/m.exec(unit);
  if (exec === null) throw new Error('infrastructure/concierge.service: no `ExecStart=/usr/bin/node [--flag ...] dist/main.js` line');
  return { flags: (exec[1] ?? '').split(' ').filter((f) => f !== ''), mallocArenaMax: /^Environment=MALLOC_ARENA_MAX=(\d+)$/m.exec(unit)?.[1] };
}
const production = productionSettings();
const extraFlags = benchNodeFlags();

function startService(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const entry = FROM_SOURCE ? ['--import', import.meta.resolve('tsx'), join(ROOT, 'src/main.ts')] : [join(ROOT, DIST, 'main.js')];
  const main = [...production.flags, ...extraFlags, ...entry];
  const child = spawn(process.execPath, main, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  process.once('exit', () => child.kill('SIGKILL'));
  let out = '';
  // BENCH_SERVICE_LOG=file keeps the service's whole output (e.g. with BENCH_NODE_FLAGS=--trace-gc).
  const log = process.env['BENCH_SERVICE_LOG'] === undefined ? null : createWriteStream(process.env['BENCH_SERVICE_LOG']);
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-100_000);
    log?.write(d);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => out };
}

/** VmRSS and VmHWM (peak) of `pid`, in MB. */
function readRss(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** V8's heap (used, total) in MB, from the service's Prometheus default metrics. */
async function readHeap(base: string): Promise<{ used: number; total: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
  return { used: gauge('concierge_nodejs_heap_size_used_bytes'), total: gauge('concierge_nodejs_heap_size_total_bytes') };
}

/**
 * Jobs due and not finished (running, or queued to run by now), read from the database file as another process may
 * (WAL). Due only: the standing schedules (backup, retention, reconcile) always have one run queued for later.
 */
function pendingJobs(kind?: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    const where = kind === undefined ? '' : ' AND kind = ?';
    const sql = `SELECT count(*) AS n FROM jobs WHERE (status = 'running' OR (status = 'queued' AND run_at <= ?))${where}`;
    const row = db.prepare(sql).get(Date.now(), ...(kind === undefined ? [] : [kind])) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

async function waitFor(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number, service: { child: ChildProcess; output: () => string }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (service.child.exitCode !== null || service.child.signalCode !== null) throw new Error(`${what}: the service exited (${service.child.exitCode ?? service.child.signalCode})\n${service.output().slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s\n${service.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---------------------------------------------------------------- run
const paypal = await createPaypalStandIn({ plans: FIXTURE_PLANS });
const webhookMembers = Array.from({ length: WEBHOOKS }, (_, i) => memberId(MEMBERS - WEBHOOKS + i));
const pending = new Map(webhookMembers.map((id) => [id, paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: id }).id]));
const discord = await createTestDiscord({
  members: Array.from({ length: MEMBERS }, (_, i) => ({ id: memberId(i), roles: pending.has(memberId(i)) || i % MISSING_EVERY === 0 ? [] : [ROLE_IDS.elite] })),
  // Discord's real member-role bucket; the global limit raised so the 1,000 activations' DMs and audit posts take seconds, not minutes.
  roleLimit: 50,
  roleWindowMs: 1000,
  globalLimit: 1000,
});
const t0 = performance.now();
seed(Date.now(), pending);
process.stdout.write(`seeded ${MEMBERS.toLocaleString('en')} members and subscriptions in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
if (!FROM_SOURCE && !existsSync(join(ROOT, DIST, 'main.js'))) throw new Error(`${DIST}/main.js is missing: run \`npm run build\` first (or BENCH_FROM_SOURCE=1)`);

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
// BENCH_NODE_FLAGS and BENCH_MALLOC_ARENA_MAX: Node/V8 flags (heap sizing, --trace-gc) and glibc's arena limit to try
// on the service, after (flags) or instead of (arena limit) the production settings.
const env = {
  PATH: process.env['PATH'],
  MALLOC_ARENA_MAX: process.env['BENCH_MALLOC_ARENA_MAX'] ?? production.mallocArenaMax,
  NODE_EXTRA_CA_CERTS: fileURLToPath(new URL('../src/stand-ins/tls/ca.pem', import.meta.url)),
  ...testEnv(paypal.url, dbPath, { ...discordEnv(discord), HTTP_PORT: String(port), LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'warn' }),
};
const service = startService(env);
const pid = service.child.pid ?? NaN;
const rows: { step: string; seconds: number; rss: number; peak: number; heapUsed: number; heapTotal: number }[] = [];
const started = performance.now();
let stepStart = started;
// BENCH_TIMELINE=1 prints RSS and V8's heap every second, to see which step grows what.
const timeline = process.env['BENCH_TIMELINE'] === '1'
  ? setInterval(() => {
      readHeap(base).then(
        (h) => process.stdout.write(`    t=${((performance.now() - started) / 1000).toFixed(0)}s RSS ${readRss(pid).rss.toFixed(0)} MB, heap ${h.used.toFixed(0)} / ${h.total.toFixed(0)} MB\n`),
        () => undefined,
      );
    }, 1000)
  : null;
async function record(step: string): Promise<void> {
  const heap = await readHeap(base);
  rows.push({ step, seconds: (performance.now() - stepStart) / 1000, ...readRss(pid), heapUsed: heap.used, heapTotal: heap.total });
  const r = rows[rows.length - 1];
  process.stdout.write(`  ${step}: RSS ${r?.rss.toFixed(0)} MB (peak ${r?.peak.toFixed(0)} MB)\n`);
  stepStart = performance.now();
}

try {
  await waitFor('start-up', () => fetch(`${base}/healthz`).then((r) => r.ok, () => false), 120_000, service);
  await record('started');
  await new Promise((r) => setTimeout(r, IDLE_MS));
  await record('idle');

  if (MEMBERS > 0) {
    const identifies = discord.gatewayLog.filter((e) => e.kind === 'identify').length;
    discord.invalidateSessions();
    await waitFor('the new session', () => discord.gatewayLog.filter((e) => e.kind === 'identify').length > identifies, 60_000, service);
    await waitFor('the resync to queue its jobs', () => pendingJobs('role-sync') > 0, 120_000, service);
    // About 4 minutes on two idle cores (1–2 ms of CPU a job); a busy machine takes many times that.
    await waitFor('the resync jobs', () => pendingJobs() === 0, 3 * 3_600_000, service);
    await record('resync');

    let next = 0;
    const url = `${base}/webhooks/paypal`;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < webhookMembers.length; i = next++) {
          const subscriptionId = pending.get(webhookMembers[i] ?? '') ?? '';
          paypal.approve(subscriptionId);
          const res = await paypal.deliver(paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', subscriptionId), { url, webhookId: TEST_WEBHOOK_ID });
          if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${res.body}`);
        }
      }),
    );
    await waitFor('the webhook jobs', () => pendingJobs() === 0, 600_000, service);
    await record('webhooks');
    await new Promise((r) => setTimeout(r, IDLE_MS));
    await record('settled');
  }
} finally {
  if (timeline !== null) clearInterval(timeline);
  if (service.child.exitCode === null && service.child.signalCode === null) {
    const exited = new Promise((r) => service.child.once('exit', r));
    service.child.kill('SIGTERM');
    await exited;
  }
  await paypal.close();
  await discord.close();
}

const mb = (n: number) => n.toFixed(0).padStart(6);
const peak = Math.max(...rows.map((r) => r.peak));
process.stdout.write(
  [
    '',
    `Concierge memory, ${MEMBERS.toLocaleString('en')} members, ${WEBHOOKS.toLocaleString('en')} webhooks (${FROM_SOURCE ? 'from source through tsx' : `compiled ${DIST}/`}, Node ${process.version})`,
    `node ${[...production.flags, ...extraFlags].join(' ') || '(no flags)'}, MALLOC_ARENA_MAX=${env.MALLOC_ARENA_MAX ?? '(unset)'}`,
    'step        seconds  RSS MB  peak MB  heap used MB  heap total MB',
    ...rows.map((r) => `${r.step.padEnd(10)} ${r.seconds.toFixed(1).padStart(8)}  ${mb(r.rss)}   ${mb(r.peak)}        ${mb(r.heapUsed)}         ${mb(r.heapTotal)}`),
    `peak RSS ${peak.toFixed(0)} MB: ${peak < GOAL_MB ? 'under' : 'OVER'} the ${GOAL_MB} MB goal`,
    '',
  ].join('\n'),
);
const idle = rows.find((r) => r.step === 'idle');
if (idle !== undefined) recordFigure({ bench: 'memory', figure: `idle RSS, ${MEMBERS.toLocaleString('en')} members`, goal: 'report', measured: idle.rss, unit: 'MB', pass: true });
if (MEMBERS > 0) recordFigure({ bench: 'memory', figure: `peak RSS, ${MEMBERS.toLocaleString('en')} members`, goal: `< ${GOAL_MB} MB`, measured: peak, unit: 'MB', pass: peak < GOAL_MB });
