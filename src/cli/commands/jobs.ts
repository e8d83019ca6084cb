import type { Command } from 'commander';
import { describeQueue, retryAllDeadJobs, retryOneJob, type QueueReport } from '../../app/job-admin.ts';
import { loadDatabasePath } from '../../config.ts';
import { EXIT, explainFailures, UsageError } from '../exit.ts';
import { openExistingDatabase } from '../open-database.ts';
import { createProgress } from '../progress.ts';

export function registerJobs(program: Command): void {
  const jobs = program
    .command('jobs')
    .description('the job queue: depth by kind, oldest due, dead letters (see `jobs retry`)')
    .option('--json', 'print the report as JSON')
    .option('--dead <n>', 'how many dead letters to list', '20')
    .action(
      explainFailures((o: { json?: boolean; dead: string }) => {
        const listed = parseCount(o.dead, '--dead');
        const store = openExistingDatabase(loadDatabasePath(), { current: true });
        try {
          const now = Date.now();
          const report = describeQueue(store, now, { deadListed: listed });
          process.stdout.write(o.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, now));
        } finally {
          store.close();
        }
      }),
    );

  jobs
    .command('retry')
    .description('run a dead-lettered job again with fresh attempts (or a job waiting for its backoff now); --all-dead for every dead letter')
    .argument('[id]', 'the job id, as `concierge jobs` lists it')
    .option('--all-dead', 'retry every dead letter')
    .action(
      explainFailures(async (id: string | undefined, o: { allDead?: boolean }) => {
        if ((id === undefined) === (o.allDead !== true)) throw new UsageError('give either a job id or --all-dead');
        const store = openExistingDatabase(loadDatabasePath(), { current: true });
        try {
          if (id === undefined) return await retryAll(store);
          retryOne(store, parseCount(id, 'the job id'));
        } finally {
          store.close();
        }
      }),
    );
}

type Store = ReturnType<typeof openExistingDatabase>;

function retryOne(store: Store, id: number): void {
  const r = retryOneJob(store, id, Date.now());
  if (r.kind === 'missing') {
    process.stderr.write(`job #${id} does not exist\n`);
    process.exitCode = EXIT.failure;
  } else if (r.kind === 'not_retryable') {
    process.stderr.write(`job #${id} (${r.job.kind}) is ${r.job.status}: only dead or queued jobs can be retried\n`);
    process.exitCode = EXIT.failure;
  } else if (r.kind === 'folded') {
    process.stdout.write(`job #${id} (${r.job.kind}): a newer job #${r.into} for the same key is queued; it runs now instead\n`);
  } else {
    process.stdout.write(`job #${id} (${r.job.kind}) queued to run now (was ${r.job.status})\n`);
  }
}

async function retryAll(store: Store): Promise<void> {
  const progress = createProgress();
  const r = await retryAllDeadJobs(store, Date.now(), (done, total) => progress.update(`retried ${done} of ${total} dead letter(s)`));
  progress.done();
  process.stdout.write(`${r.requeued + r.folded} dead letter(s) retried (${r.requeued} queued to run now, ${r.folded} folded into a newer queued job)\n`);
}

function parseCount(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a whole number, got "${text}"`);
  return Number(text);
}

function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

function formatReport(r: QueueReport, now: number): string {
  const rows = [['kind', 'queued', 'due', 'running', 'dead', 'oldest due'], ...r.kinds.map((k) => [k.kind, String(k.queued), String(k.due), String(k.running), String(k.dead), k.oldestDueAt === null ? '-' : formatAge(now - k.oldestDueAt)])];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  const table = rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd());
  const lines = r.kinds.length === 0 ? ['no queued, running or dead jobs'] : table;
  if (r.deadTotal > 0) {
    lines.push('', `dead letters (${r.deadTotal}${r.dead.length < r.deadTotal ? `, first ${r.dead.length}` : ''}); retry with: concierge jobs retry <id> | --all-dead`);
    for (const j of r.dead) lines.push(`  #${j.id} ${j.kind} ${new Date(j.updatedAt).toISOString()} after ${j.attempts}/${j.maxAttempts} attempt(s): ${(j.lastError ?? '').slice(0, 200)}`);
  }
  return `${lines.join('\n')}\n`;
}
