import { countDifferences, type Difference, type ReconcileReport } from './reconcile.ts';

/**
 * A reconciliation report as text: one summary line and a table of the
 * differences naming the PayPal subscription id and the Discord id, for the
 * terminal (every row) and Discord (the first rows, in a code block).
 */

const HEADERS = ['CHECK', 'PAYPAL SUBSCRIPTION', 'DISCORD MEMBER', 'DIFFERENCE', 'ACTION'] as const;

function cells(d: Difference): string[] {
  return [d.check, d.subscriptionId ?? '-', d.memberId ?? '-', d.difference, d.action];
}

/** Columns padded to their widest cell; the last one is left ragged. */
export function formatTable(rows: readonly Difference[]): string[] {
  const all = [[...HEADERS], ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

/** "3 differences (paypal 1, events 1, discord 1); checked 12 subscriptions, 40 events, 9 members" and how the run ended. */
export function summariseReport(r: ReconcileReport): string {
  const counts = countDifferences(r);
  const n = r.differences.length;
  const mode = r.dryRun ? 'dry run, nothing changed' : 'changes applied';
  const outcome = r.completed ? `completed (${mode})` : `NOT completed (${mode}): ${r.failure ?? 'stopped early'}`;
  return [
    `reconcile ${outcome} in ${Math.max(0, r.finishedAt - r.startedAt)} ms`,
    `${n} difference(s) (paypal ${counts.paypal}, events ${counts.events}, discord ${counts.discord}); checked ${r.checked.subscriptions} subscription(s), ${r.checked.events} PayPal event(s), ${r.checked.members} member(s)`,
  ].join('\n');
}

/** The whole report for the terminal: summary, then every difference. */
export function renderReportText(r: ReconcileReport): string {
  const table = r.differences.length === 0 ? ['no differences'] : formatTable(r.differences);
  return `${summariseReport(r)}\n\n${table.join('\n')}\n`;
}

/**
 * The report for a Discord message: summary and as many first rows as fit
 * in `maxChars` (an embed description holds 4096), the rest counted.
 */
export function renderReportForDiscord(r: ReconcileReport, maxChars = 3800): string {
  const summary = summariseReport(r);
  if (r.differences.length === 0) return `${summary}\n\nNo differences.`;
  const lines = formatTable(r.differences);
  const fence = '```';
  // Room kept for the fences and the "… n more" line.
  const budget = maxChars - summary.length - 100;
  let body = lines[0] ?? '';
  let shown = 0;
  for (const line of lines.slice(1)) {
    if (body.length + 1 + line.length > budget) break;
    body += `\n${line}`;
    shown += 1;
  }
  const rest = r.differences.length - shown;
  const tail = rest > 0 ? `\n… ${rest} more: run \`npx concierge reconcile --dry-run\` for all` : '';
  return `${summary}\n${fence}\n${body}\n${fence}${tail}`;
}
