import { describe, expect, it } from 'vitest';
import { formatCrashReport } from '../helpers/crash-report.ts';
import { crashSeed } from '../helpers/crash-random.ts';
import { runCrashSuite, type CrashOptions } from '../helpers/crash-suite.ts';

/**
 * The crash suite (issue 16): a storm of PayPal webhooks (activations,
 * renewals, declined renewals, cancellations, refunds, reversals, duplicates,
 * out of order) against the real service in a child process, SIGKILLed at
 * random moments and restarted while PayPal keeps retrying what was not
 * acknowledged. At the end every member holds exactly the roles PayPal's
 * final state pays for, every acknowledged event was stored and processed
 * once, no role call, DM or audit post was doubled or lost, and nothing was
 * dead-lettered. The short form runs in CI; `CRASH_LONG=1` (or `npm run
 * crash`) runs 1,000+ deliveries and 10+ kills. `CRASH_SEED=n` replays a
 * storm's plan; `CRASH_KEEP=1` keeps the database directory.
 */

const long = process.env['CRASH_LONG'] === '1';
const seed = crashSeed();
const options: CrashOptions = long
  ? { seed, deliveries: 1_100, kills: 12, upMs: [1_500, 4_500], downMs: [0, 600] }
  : { seed, deliveries: 200, kills: 3, upMs: [1_000, 2_500], downMs: [0, 300] };

// Four starts of the real process dominate: about a second each on an idle machine, 13-19 s each measured
// with seven suites on two cores (the short form then took 100 s); the limits leave room for worse.
describe('crash suite', { timeout: long ? 1_500_000 : 300_000 }, () => {
  it(`${options.deliveries} webhook deliveries, ${options.kills} SIGKILLs: roles match PayPal, nothing lost or doubled (seed ${seed})`, async () => {
    process.stdout.write(`crash suite: seed ${seed} (replay with CRASH_SEED=${seed}${long ? ' CRASH_LONG=1' : ''})\n`);
    const report = await runCrashSuite(options);
    process.stdout.write(`${formatCrashReport(report)}\n`);
    if (report.verdict.problems.length > 0) {
      process.stdout.write(`problems (seed ${seed}):\n  ${report.verdict.problems.slice(0, 50).join('\n  ')}\nservice output (tail):\n${report.output.slice(-6_000)}\n`);
    }
    expect(report.kills).toBe(options.kills);
    expect(report.storm.deliveries.length).toBeGreaterThanOrEqual(options.deliveries);
    expect(report.verdict.problems).toEqual([]);
    // Every event went through the whole pipeline: a storm that processed nothing would pass the checks above.
    expect(report.verdict.counts.eventsProcessed).toBe(report.storm.events.size);
    expect(report.verdict.counts.rolePuts).toBeGreaterThan(0);
  });
});
