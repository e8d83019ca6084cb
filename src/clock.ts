import { readFileSync } from 'node:fs';

/**
 * The service's clock. In production it is Date.now. With CLOCK_OFFSET_FILE
 * (`npm run demo` and process tests only) it runs ahead by the milliseconds
 * written in that file, re-read when the process gets SIGUSR2: a demo shows a
 * month passing (renewals, grace periods, lapses) without waiting for it,
 * through the real process and its real timers. Reading on a signal rather
 * than per call keeps the clock a plain addition on hot paths.
 */
export interface ServiceClock {
  now: () => number;
  /** Re-reads the offset file; returns the new offset. */
  reload(): number;
}

export function readClockOffset(file: string): number {
  const text = readFileSync(file, 'utf8').trim();
  const offset = Number(text === '' ? '0' : text);
  if (!Number.isFinite(offset)) throw new Error(`CLOCK_OFFSET_FILE ${file} must hold a number of milliseconds, not ${JSON.stringify(text.slice(0, 40))}`);
  return offset;
}

export function createServiceClock(offsetFile: string | null): ServiceClock {
  if (offsetFile === null) return { now: Date.now, reload: () => 0 };
  let offset = readClockOffset(offsetFile);
  return {
    now: () => Date.now() + offset,
    reload: () => {
      offset = readClockOffset(offsetFile);
      return offset;
    },
  };
}
