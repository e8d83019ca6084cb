/**
 * Each run of the lifecycle properties drives the whole service over loopback HTTPS (a webhook, its
 * signature, the PayPal reads through the SDK, the role PUT at Discord): about a second a run on the CI's
 * two cores. CI runs 25 of each; `PROPERTY_RUNS=200 npx vitest run test/property` runs more.
 */
export function propertyRuns(fallback = 25): number {
  const n = Number(process.env['PROPERTY_RUNS']);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** The test's time limit: generous per run, since seven test suites may share the two cores. */
export function propertyTimeoutMs(): number {
  return Math.max(600_000, propertyRuns() * 15_000);
}
