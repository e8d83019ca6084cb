import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Figure } from './figures.ts';

/**
 * `npm run bench`: every benchmark in turn (each prints its own detailed
 * table as it goes), then one table of the headline figures: goal,
 * measured, ratio to the bench's in-run baseline where it has one, and
 * pass/fail. BENCH_ONLY=webhooks,roles runs a subset. Exit code 0 even when
 * a figure misses its goal: a bench reports, CI does not gate on a noisy
 * 2-core machine.
 */
const BENCHES = ['webhooks', 'roles', 'commands', 'memory'] as const;
const only = process.env['BENCH_ONLY']?.split(',');
const dir = mkdtempSync(join(tmpdir(), 'concierge-bench-'));
const file = join(dir, 'figures.jsonl');
const failed: string[] = [];
for (const bench of BENCHES) {
  if (only !== undefined && !only.includes(bench)) continue;
  process.stdout.write(`\n=== npm run bench:${bench}\n`);
  const run = spawnSync('npm', ['run', '--silent', `bench:${bench}`], { stdio: 'inherit', env: { ...process.env, BENCH_FIGURES: file } });
  if (run.status !== 0) failed.push(`${bench} (exit ${run.status ?? run.signal})`);
}
let figures: Figure[] = [];
try {
  figures = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Figure);
} catch {
  // No bench wrote a figure: the table says so below.
}
rmSync(dir, { recursive: true, force: true });

const cols = ['bench', 'figure', 'goal', 'measured', 'ratio', 'result'];
const rows = figures.map((f) => [f.bench, f.figure, f.goal, `${f.measured.toFixed(f.measured >= 100 ? 0 : 2)} ${f.unit}`, f.ratio === undefined ? '' : f.ratio.toFixed(2), f.pass ? 'pass' : 'MISS']);
const width = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (r: string[]) => `| ${r.map((v, i) => v.padEnd(width[i] ?? 0)).join(' | ')} |`;
process.stdout.write(`\nConcierge benchmarks — Node ${process.version}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
process.stdout.write(`${[line(cols), line(width.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`);
if (rows.length === 0) process.stdout.write('(no figures recorded)\n');
if (failed.length > 0) process.stdout.write(`benches that did not finish: ${failed.join(', ')}\n`);
process.exit(failed.length > 0 ? 1 : 0);
