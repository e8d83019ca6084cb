import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/demo/stage.ts';
import { createPaypalStandIn } from '../../src/stand-ins/paypal/server.ts';
import { judge, queueDrained, type Verdict } from './crash-checks.ts';
import { createCrashService, runChaos } from './crash-process.ts';
import { createRandom } from './crash-random.ts';
import { scriptMember, type MemberScript } from './crash-scripts.ts';
import { runStorm, type Storm } from './crash-storm.ts';
import { createTestDiscord, discordEnv, testEnv } from './harness.ts';
import { FIXTURE_PLANS } from './tiers.ts';

/**
 * The crash suite: a webhook storm against the real service in a child
 * process that is SIGKILLed and restarted at random moments, then, once the
 * queue drained after the last restart, the verdict (crash-checks.ts).
 */

export interface CrashOptions {
  seed: number;
  /** Webhook deliveries to make, duplicates included (about: members are scripted until it is reached). */
  deliveries: number;
  kills: number;
  /** Time alive before each kill, after /healthz answers: [min, max] ms. */
  upMs: [number, number];
  /** Time dead before each restart. */
  downMs: [number, number];
}

export interface CrashReport {
  options: CrashOptions;
  form: 'dist' | 'tsx';
  members: number;
  storm: Storm;
  verdict: Verdict;
  kills: number;
  restarts: number;
  startMs: number[];
  stormMs: number;
  drainMs: number;
  elapsedMs: number;
  /** The service's output (tails), for a failure's message. */
  output: string;
  dir: string;
}

const DUPLICATE_CHANCE = 0.1;
/** Deliveries start up to this long after their step: enough to reorder a member's events. */
const MAX_SKEW_MS = 1_500;
/** After the storm, jobs may still be retrying with backoff: a refund that came before its sale waits for it (1 s doubling); the long form drained in 86 s on a loaded machine. */
const DRAIN_TIMEOUT_MS = 240_000;
/** PayPal's schedule, compressed: 100 ms doubling to 2 s. A restart takes a second or two, so deliveries outlive it. */
const RETRY = { firstDelayMs: 100, maxDelayMs: 2_000, maxAttempts: 60, timeoutMs: 10_000 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runCrashSuite(o: CrashOptions): Promise<CrashReport> {
  const started = Date.now();
  // Three streams: the plan (replayable), kill moments, and retry jitter (drawn as timing allows).
  const plan = createRandom(o.seed);
  const chaosRandom = createRandom(o.seed ^ 0x5bd1e995);
  const retryRandom = createRandom(o.seed ^ 0x27d4eb2f);
  const paypal = await createPaypalStandIn({ plans: FIXTURE_PLANS });
  // Discord's real limits would make a 1,000-event storm a matter of minutes of waiting; the suite is about crashes, not pacing.
  const discord = await createTestDiscord({ roleLimit: 100, roleWindowMs: 1_000, messageLimit: 10_000, globalLimit: 500 });
  const dir = mkdtempSync(join(tmpdir(), 'concierge-crash-'));
  const dbPath = join(dir, 'concierge.db');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const service = createCrashService({ env: testEnv(paypal.url, dbPath, { ...discordEnv(discord), HTTP_PORT: String(port), LOG_LEVEL: 'warn' }), cwd: dir, base });
  const abort = new AbortController();
  // Every delivery waiting out a retry listens to it: hundreds at once in a storm.
  setMaxListeners(0, abort.signal);

  const members: MemberScript[] = [];
  // Duplicates come on top: at least `deliveries` in all.
  for (let planned = 0; planned < o.deliveries; ) {
    const memberId = String(500000000000000000n + BigInt(members.length));
    discord.addMember(memberId);
    const m = scriptMember(paypal, memberId, plan);
    members.push(m);
    planned += m.events;
  }
  const steps = members.reduce((n, m) => n + m.steps.length, 0);

  try {
    await service.start();
    // Spread the steps over about the time the kills take (restarts as slow as the first start), so every kill lands in the storm.
    const chaosMs = o.kills * ((o.upMs[0] + o.upMs[1]) / 2 + (o.downMs[0] + o.downMs[1]) / 2 + (service.startMs[0] ?? 0));
    const gapMs = Math.max(5, Math.round(chaosMs / steps));
    const stormStarted = Date.now();
    const [storm] = await Promise.all([
      runStorm({ paypal, webhookUrl: `${base}/webhooks/paypal`, members, plan, retryRandom, gapMs, maxSkewMs: MAX_SKEW_MS, duplicateChance: DUPLICATE_CHANCE, retry: RETRY, signal: abort.signal }),
      runChaos(service, { kills: o.kills, upMs: o.upMs, downMs: o.downMs, random: chaosRandom, signal: abort.signal }),
    ]);
    const stormMs = Date.now() - stormStarted;
    const drainStarted = Date.now();
    const drained = await waitDrained(dbPath);
    const drainMs = Date.now() - drainStarted;
    const verdict = judge({ dbPath, paypal, discord, members, storm });
    if (!drained) verdict.problems.unshift(`the queue did not drain within ${DRAIN_TIMEOUT_MS} ms of the storm's end`);
    return {
      options: o,
      form: service.form,
      members: members.length,
      storm,
      verdict,
      kills: service.kills,
      restarts: service.restarts,
      startMs: service.startMs,
      stormMs,
      drainMs,
      elapsedMs: Date.now() - started,
      output: service.output(),
      dir,
    };
  } finally {
    abort.abort();
    await service.stop();
    await paypal.close();
    await discord.close();
    if (process.env['CRASH_KEEP'] !== '1') rmSync(dir, { recursive: true, force: true });
  }
}

/** Drained twice in a row, half a second apart: a job that finishes may queue another (a role sync after processing). */
async function waitDrained(dbPath: string): Promise<boolean> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (let streak = 0; streak < 2; ) {
    if (Date.now() > deadline) return false;
    streak = queueDrained(dbPath) ? streak + 1 : 0;
    await sleep(500);
  }
  return true;
}
