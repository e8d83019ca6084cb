import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { readReplayProgress, replayWebhookEvent, type ReplayProgress } from '../../app/replay.ts';
import { loadDatabasePath } from '../../config.ts';
import { ConciergeError } from '../../errors.ts';
import { isServiceRunning } from '../../store/instance-lock.ts';
import { EXIT, explainFailures, UsageError } from '../exit.ts';
import { openExistingDatabase } from '../open-database.ts';

/** How long `replay` waits for the running service to process the event, unless --wait says otherwise. */
const DEFAULT_WAIT_SECONDS = 30;

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('process a stored PayPal webhook again: queued for the service (as a delivery is), then waits for the outcome while the service runs')
    .argument('<event-id>', "PayPal's event id (WH-…), as in the audit channel")
    .option('--wait <seconds>', `how long to wait for the outcome (default ${DEFAULT_WAIT_SECONDS} while the service runs, else 0)`)
    .action(
      explainFailures(async (eventId: string, o: { wait?: string }) => {
        const path = loadDatabasePath();
        const wait = o.wait === undefined ? (isServiceRunning(path) ? DEFAULT_WAIT_SECONDS : 0) : parseSeconds(o.wait);
        const store = openExistingDatabase(path, { current: true });
        try {
          const queued = replayWebhookEvent(store, eventId, Date.now());
          if (queued.kind === 'missing') throw new ConciergeError('replay_unknown_event', `event ${eventId} is not in the inbox (${path})`, { retry: false });
          if (queued.kind === 'pruned') {
            const at = new Date(queued.receivedAt).toISOString();
            throw new ConciergeError('replay_pruned', `event ${eventId} (received ${at}) cannot be replayed: its body was removed by retention (WEBHOOK_BODY_RETENTION_DAYS)`, { retry: false });
          }
          process.stderr.write(`event ${eventId} (was ${queued.previousOutcome}) queued for processing as job #${queued.jobId}\n`);
          const progress = await waitForOutcome(() => readReplayProgress(store, eventId, queued.jobId), wait * 1000);
          report(eventId, queued.jobId, progress);
        } finally {
          store.close();
        }
      }),
    );
}

function parseSeconds(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--wait must be a number of seconds, got "${text}"`);
  return n;
}

async function waitForOutcome(read: () => ReplayProgress, waitMs: number): Promise<ReplayProgress> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const p = read();
    if (p.kind === 'finished' || Date.now() >= deadline) return p;
    await sleep(200);
  }
}

function report(eventId: string, jobId: number, p: ReplayProgress): void {
  if (p.kind === 'pending') {
    const tried = p.attempts > 0 ? ` after ${p.attempts} attempt(s)${p.lastError === null ? '' : `, last error: ${p.lastError}`}` : '';
    process.stdout.write(`event ${eventId}: job #${jobId} is ${p.status}${tried}; the service processes it (if it is stopped, at its next start). Follow it with: concierge jobs\n`);
    return;
  }
  if (p.status === 'dead') {
    process.stdout.write(`event ${eventId}: processing failed, job #${jobId} dead-lettered: ${p.lastError ?? 'no error recorded'}\n`);
    process.exitCode = EXIT.failure;
    return;
  }
  process.stdout.write(`event ${eventId}: ${p.outcome}${p.detail === null ? '' : ` (${p.detail})`}\n`);
}
