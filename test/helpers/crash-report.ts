import type { CrashReport } from './crash-suite.ts';

/** The counts a crash run prints, one figure a line, and the seed that replays its storm. */
export function formatCrashReport(r: CrashReport): string {
  const d = r.storm.deliveries;
  const attempts = d.flatMap((x) => x.result?.attempts ?? []);
  const answers = new Map<string, number>();
  for (const a of attempts) {
    const key = a.status === null ? 'no answer (refused, reset)' : String(a.status);
    answers.set(key, (answers.get(key) ?? 0) + 1);
  }
  const c = r.verdict.counts;
  const sortedStarts = [...r.startMs].sort((a, b) => a - b);
  const median = sortedStarts[Math.floor(sortedStarts.length / 2)] ?? 0;
  const rows: [string, string | number][] = [
    ['seed (CRASH_SEED)', r.options.seed],
    ['service run as', r.form === 'dist' ? 'node dist/main.js' : 'tsx src/main.ts'],
    ['members', r.members],
    ['events sent', r.storm.events.size],
    ['deliveries (duplicates included)', d.length],
    ['  of which duplicates', d.filter((x) => x.duplicate).length],
    ['delivery attempts (PayPal retries included)', attempts.length],
    ...[...answers].sort().map(([k, n]): [string, number] => [`  answered ${k}`, n]),
    ['acknowledged deliveries', d.filter((x) => x.result?.acknowledged === true).length],
    ['kills (SIGKILL)', r.kills],
    ['restarts', r.restarts],
    ['start to /healthz, median / max ms', `${median} / ${sortedStarts[sortedStarts.length - 1] ?? 0}`],
    ['events processed', c.eventsProcessed],
    ...Object.entries(c.outcomes).map(([k, n]): [string, number] => [`  outcome ${k}`, n]),
    ['role PUTs', c.rolePuts],
    ['role DELETEs', c.roleDeletes],
    ['DMs', c.dms],
    ['audit messages', c.auditMessages],
    ['dead letters', c.deadLetters],
    ['storm ms / drain ms / elapsed ms', `${r.stormMs} / ${r.drainMs} / ${r.elapsedMs}`],
    ['problems', r.verdict.problems.length],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return ['crash suite', ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}
