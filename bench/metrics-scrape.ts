import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServiceMetrics } from '../src/metrics/store-sources.ts';
import { openStore } from '../src/store/db.ts';

/**
 * node --import tsx bench/metrics-scrape.ts — what one /metrics scrape costs
 * at 100,000 members (one in five without a tier) and 100,000 jobs (a bulk
 * resync queued: 90,000 queued, 10,000 done) plus 200 dead letters, on a
 * file database. Prints the median, p90 and max of 30 scrapes.
 */

const MEMBERS = 100_000;
/** BENCH_JOBS: queued jobs (default 100,000, a bulk resync in progress; a quiet queue holds a few). */
const JOBS = Number(process.env['BENCH_JOBS'] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'concierge-scrape-'));
const store = openStore(join(dir, 'bench.db'));
const now = Date.now();
const tiers = ['elite', 'legendary', 'titan', 'warlord', null];
const member = store.sqlite.prepare('INSERT INTO members (discord_user_id, entitled_tier, created_at, updated_at) VALUES (?, ?, ?, ?)');
const job = store.sqlite.prepare('INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, priority, created_at, updated_at) VALUES (?, ?, ?, 0, 10, ?, ?, ?, ?)');
store.sqlite.transaction(() => {
  for (let i = 0; i < MEMBERS; i++) member.run(String(300000000000000000n + BigInt(i)), tiers[i % tiers.length], now, now);
  for (let i = 0; i < JOBS; i++) job.run('role-sync', `{"memberId":"${i}"}`, i % 10 === 0 ? 'done' : 'queued', now - i, -1, now, now);
  for (let i = 0; i < 200; i++) job.run('dm', '{}', 'dead', now, 0, now, now);
})();

const metrics = createServiceMetrics({ db: store.db, clock: Date.now, backupDir: join(dir, 'backups'), gatewayState: () => 'ready' });
await metrics.registry.metrics();
const ms: number[] = [];
for (let i = 0; i < 30; i++) {
  const started = performance.now();
  await metrics.registry.metrics();
  ms.push(performance.now() - started);
}
ms.sort((a, b) => a - b);
const at = (q: number) => (ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0).toFixed(1);
console.log(`/metrics scrape at ${MEMBERS} members, ${JOBS} jobs: median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`);
store.close();
rmSync(dir, { recursive: true, force: true });
