import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { recordFigure } from './figures.ts';
import { benchNodeFlags } from './node-flags.ts';
import autocannon from 'autocannon';
import { fixedRate } from './fixed-rate.ts';
import { createPaypalStandIn } from '../src/stand-ins/paypal/server.ts';
import { TEST_WEBHOOK_ID, createTestDiscord, discordEnv, testEnv } from '../test/helpers/harness.ts';
import { PLAN_IDS } from '../test/helpers/tiers.ts';

/**
 * npm run bench:webhooks — webhook ingest throughput and latency.
 *
 * Signed, unique ~1.5 KB events at concurrency 10 and 50 for DURATION seconds
 * each against (a) a bare verify-only Fastify route (the floor: no storage)
 * and (b) Concierge's real endpoint (synchronous=FULL, group commit, job
 * worker running), each server in its own process; then latency at a fixed
 * 1,000 requests/s, evenly spaced (bench/fixed-rate.ts). Prints a table and
 * the ratio b/a.
 */

const DURATION = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONCURRENCIES = [10, 50];
const FIXED_RATE = 1000;
const WARMUP = 2000;
/** Upper bound of what one phase can consume against the real endpoint. */
const EVENTS_PER_PHASE = Number(process.env['BENCH_EVENTS_PER_PHASE'] ?? 9000) * DURATION;

interface Signed {
  /** A Buffer, not a string: 200,000 bodies held as strings made the generator's GC pauses show up as server latency. */
  body: Buffer;
  headers: Record<string, string>;
}

const paypal = await createPaypalStandIn();
// Concierge logs into Discord at start: the Discord stand-in serves it (role syncs, audit posts, DMs).
const discord = await createTestDiscord();
const dir = mkdtempSync(join(tmpdir(), 'concierge-bench-'));
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

// A few real subscriptions, so the worker's fetch-on-notify has something to read.
const subs = Array.from({ length: 20 }, (_, i) => {
  const s = paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: String(700000000000000000n + BigInt(i)) });
  paypal.approve(s.id);
  return s.id;
});

function makeBodies(n: number, tag: string): string[] {
  const template = paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', subs[0] ?? '');
  return Array.from({ length: n }, (_, i) => {
    const subId = subs[i % subs.length] ?? '';
    return JSON.stringify({ ...template, id: `WH-BENCH-${tag}-${i}`, resource: { ...template.resource, id: subId } });
  });
}

async function sign(bodies: string[]): Promise<Signed[]> {
  const threads = Math.max(1, cpus().length);
  const per = Math.ceil(bodies.length / threads);
  const certUrl = `${paypal.url}/v1/notifications/certs/CERT-bench`;
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const worker = new Worker(new URL('./ts-worker.mjs', import.meta.url), { workerData: { script: new URL('./sign-worker.ts', import.meta.url).href, bodies: bodies.slice(t * per, (t + 1) * per), webhookId: TEST_WEBHOOK_ID, certUrl } });
      return new Promise<Signed[]>((resolve, reject) => {
        worker.once('message', (m: { body: string; headers: Record<string, string> }[]) => resolve(m.map((e) => ({ body: Buffer.from(e.body), headers: e.headers }))));
        worker.once('error', reject);
      }).finally(() => worker.terminate());
    }),
  );
  return parts.flat();
}

async function startServer(mode: 'verify' | 'concierge'): Promise<{ url: string; stop: () => void }> {
  const env = testEnv(paypal.url, join(dir, `${mode}-${Date.now()}.db`), { ...discordEnv(discord), LOG_LEVEL: 'warn', PAYPAL_TIMEOUT_MS: '5000' });
  const profile = process.env['BENCH_CPUPROF'] === '1' && mode === 'concierge' ? ['--cpu-prof', '--cpu-prof-dir=/tmp/concierge-prof'] : [];
  // BENCH_NODE_FLAGS go to both servers (e.g. the heap sizing of the systemd unit), not to this load generator.
  const child = spawn(process.execPath, [...benchNodeFlags(), ...profile, '--import', import.meta.resolve('tsx'), new URL('./serve.ts', import.meta.url).pathname, mode], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m?.[1] !== undefined) resolve({ url: m[1], stop: () => child.kill('SIGINT') });
    });
    child.once('exit', (code, signal) => (signal === 'SIGKILL' || code === 0 ? undefined : reject(new Error(`${mode} server exited with ${code}`))));
  });
}

interface Row {
  target: string;
  load: string;
  acks: number;
  p50: number;
  p99: number;
  errors: number;
}

async function run(url: string, events: Signed[], load: { connections: number; overallRate?: number }, mustBeUnique: boolean): Promise<Omit<Row, 'target' | 'load'>> {
  let next = 0;
  if (load.overallRate !== undefined) {
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const r = await fixedRate(`${url}/webhooks/paypal`, () => events[next++ % events.length] ?? { body: Buffer.alloc(0), headers: {} }, load.overallRate, DURATION);
    h.disable();
    process.stderr.write(`[driver] event-loop delay max ${(h.max / 1e6).toFixed(1)} ms\n`);
    return { acks: r.acks, p50: r.p50, p99: r.p99, errors: r.errors };
  }
  const result = await autocannon({
    url: `${url}/webhooks/paypal`,
    connections: load.connections,
    duration: DURATION,
    ...(load.overallRate === undefined ? {} : { overallRate: load.overallRate }),
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const e = events[next++ % events.length];
          if (e === undefined) return req;
          return { ...req, method: 'POST', path: '/webhooks/paypal', headers: e.headers, body: e.body };
        },
      },
    ],
  });
  if (mustBeUnique && next > events.length) process.stderr.write(`warning: ${next - events.length} events were re-sent (raise BENCH_EVENTS_PER_PHASE)\n`);
  return { acks: result['2xx'] / result.duration, p50: result.latency.p50, p99: result.latency.p99, errors: result.non2xx + result.errors + result.timeouts };
}

const bodyBytes = makeBodies(1, 'size')[0]?.length ?? 0;

// Each phase gets a fresh server: a backlog left by one phase must not weigh on the next.
const rows: Row[] = [];
const loads: { label: string; connections: number; overallRate?: number }[] = [...CONCURRENCIES.map((c) => ({ label: `c=${c}`, connections: c })), { label: `${FIXED_RATE}/s`, connections: 0, overallRate: FIXED_RATE }];
const only = process.env['BENCH_LOADS']?.split(',');
for (const [i, load] of loads.entries()) {
  if (only !== undefined && !only.includes(load.label)) continue;
  // Signed just before use and dropped after: a generator holding every phase's events
  // (hundreds of MB) paused for GC long enough to show up as server latency.
  const count = load.overallRate === undefined ? EVENTS_PER_PHASE : load.overallRate * DURATION;
  process.stderr.write(`signing ${count} events for ${load.label}...\n`);
  const events = await sign(makeBodies(count, `p${i}`));
  const warmup = await sign(makeBodies(WARMUP, `w${i}`));
  for (const target of ['verify', 'concierge'] as const) {
    const server = await startServer(target);
    // Warm up first: the first request fetches PayPal's certificate and the JIT is cold;
    // at 1,000/s the requests queued behind that one fetch alone were 1% of the sample.
    const queue = [...warmup];
    await autocannon({ url: `${server.url}/webhooks/paypal`, connections: 10, amount: queue.length, requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, ...(queue.pop() ?? {}) }) }] });
    // BENCH_PAUSE_MS: a quiet gap after the warm-up, so the phase starts while the warm-up's backlog is worked off at full concurrency.
    await new Promise((r) => setTimeout(r, Number(process.env['BENCH_PAUSE_MS'] ?? 0)));
    rows.push({ target: target === 'verify' ? 'verify-only' : 'concierge', load: load.label, ...(await run(server.url, events, load, target === 'concierge')) });
    server.stop();
    await new Promise((r) => setTimeout(r, 300));
  }
}
rows.sort((a, b) => (a.target === b.target ? 0 : a.target === 'verify-only' ? -1 : 1));

const fmt = (n: number, d = 0) => n.toFixed(d).padStart(8);
const lines = [
  `webhook ingest: ${bodyBytes} B events, ${DURATION} s per phase, ${cpus().length} cores, synchronous=FULL`,
  `${'target'.padEnd(12)} ${'load'.padEnd(8)} ${'acks/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'non-2xx'.padStart(8)}  ratio b/a`,
];
for (const r of rows) {
  const floor = rows.find((x) => x.target === 'verify-only' && x.load === r.load);
  const ratio = r.target === 'concierge' && floor !== undefined && !r.load.endsWith('/s') ? (r.acks / floor.acks).toFixed(2) : '';
  lines.push(`${r.target.padEnd(12)} ${r.load.padEnd(8)} ${fmt(r.acks)} ${fmt(r.p50, 1)} ${fmt(r.p99, 1)} ${fmt(r.errors)}  ${ratio}`);
}
process.stdout.write(`${lines.join('\n')}\n`);
// The README's figures: ~5,300/s at c=10 and ~9,000/s at c=50 on this 2-core machine; p99 < 15 ms at 1,000/s.
const GOALS: Record<string, { acks?: number; p99?: number }> = { 'c=10': { acks: 5300 }, 'c=50': { acks: 9000 }, [`${FIXED_RATE}/s`]: { p99: 15 } };
for (const r of rows.filter((x) => x.target === 'concierge')) {
  const goal = GOALS[r.load];
  const floor = rows.find((x) => x.target === 'verify-only' && x.load === r.load);
  const ratio = floor !== undefined && !r.load.endsWith('/s') ? r.acks / floor.acks : undefined;
  if (goal?.acks !== undefined) recordFigure({ bench: 'webhooks', figure: `durable ingest ${r.load}`, goal: `≥ ${goal.acks}/s`, measured: r.acks, unit: 'acks/s', ...(ratio === undefined ? {} : { ratio }), pass: r.acks >= goal.acks && r.errors === 0 });
  if (goal?.p99 !== undefined) recordFigure({ bench: 'webhooks', figure: `ingest p99 at ${r.load}`, goal: `< ${goal.p99} ms`, measured: r.p99, unit: 'ms', pass: r.p99 < goal.p99 && r.errors === 0 });
}
await paypal.close();
await discord.close();
process.exit(0);
