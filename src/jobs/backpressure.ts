/**
 * Gives webhook acknowledgements priority over background jobs during a burst.
 *
 * Sampled every `intervalMs`: while webhooks arrive faster than
 * `minRatePerSec`, the job runner is paced to one job per `throttleMs`, and
 * processing catches up as soon as the burst ends. A community's normal
 * traffic is a few webhooks a minute, far below the threshold. Measured on
 * 2 cores: unpaced, the runner claimed ~500 jobs a second during a 30,000-event
 * burst (each job costs ~1–2 ms of CPU and a PayPal read) and cut ingest to a
 * tenth of its rate.
 */
export function createIngestPriority(o: { arrivals: () => number; minRatePerSec?: number; intervalMs?: number; throttleMs?: number }): {
  throttleMs(): number;
  stop(): void;
} {
  const intervalMs = o.intervalMs ?? 100;
  const minArrivals = ((o.minRatePerSec ?? 200) * intervalMs) / 1000;
  let lastArrivals = o.arrivals();
  let throttling = false;
  const timer = setInterval(() => {
    const arrivals = o.arrivals();
    throttling = arrivals - lastArrivals >= minArrivals;
    lastArrivals = arrivals;
  }, intervalMs);
  timer.unref();
  return { throttleMs: () => (throttling ? (o.throttleMs ?? 200) : 0), stop: () => clearInterval(timer) };
}
