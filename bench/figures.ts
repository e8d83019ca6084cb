import { appendFileSync } from 'node:fs';

/**
 * One measured figure of a benchmark, for the table `npm run bench` prints
 * (bench/all.ts). Each bench still prints its own detailed table; when
 * BENCH_FIGURES names a file, it also appends its headline figures there as
 * JSON lines.
 */
export interface Figure {
  bench: string;
  figure: string;
  goal: string;
  measured: number;
  unit: string;
  /** measured ÷ the same figure of the bench's in-run baseline, where it has one. */
  ratio?: number;
  pass: boolean;
}

export function recordFigure(f: Figure): void {
  const file = process.env['BENCH_FIGURES'];
  if (file !== undefined && file !== '') appendFileSync(file, `${JSON.stringify(f)}\n`);
}
