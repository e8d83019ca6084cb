/**
 * The story's checks: an expectation that does not hold throws a
 * `StepFailure` saying what was expected and what was seen. Outcomes that
 * follow a webhook arrive asynchronously (Concierge's job queue), so role
 * checks poll until they hold or a deadline passes.
 */

export class StepFailure extends Error {}

/** Role changes follow a webhook within 1 s normally, 5 s at worst (SPEC "Timing"); a loaded machine gets some slack. */
export const OUTCOME_TIMEOUT_MS = 8_000;
/** How long "nothing changes" is watched for after a harmless event was acknowledged. */
export const QUIET_MS = 600;

export function check(cond: boolean, expected: string, seen?: string): asserts cond {
  if (!cond) throw new StepFailure(seen === undefined ? expected : `${expected}\nseen: ${seen}`);
}

export function checkText(text: string, pattern: RegExp | string, what: string): void {
  const ok = typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
  check(ok, `${what} to contain ${String(pattern)}`, JSON.stringify(text.slice(0, 300)));
}

/** Polls `read` until `holds` is true of its value; throws with the last value seen. */
export async function eventually<T>(read: () => T, holds: (v: T) => boolean, expected: string, show: (v: T) => string = (v) => JSON.stringify(v), timeoutMs = OUTCOME_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = read();
    if (holds(v)) return v;
    if (Date.now() > deadline) throw new StepFailure(`${expected} within ${timeoutMs / 1000} s\nseen: ${show(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Watches `read` for QUIET_MS and throws if its value changes (something happened that should not have). */
export async function staysSame<T>(read: () => T, expected: string): Promise<void> {
  const before = JSON.stringify(read());
  const deadline = Date.now() + QUIET_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    const now = JSON.stringify(read());
    if (now !== before) throw new StepFailure(`${expected}\nbefore: ${before}\nafter:  ${now}`);
  }
}
