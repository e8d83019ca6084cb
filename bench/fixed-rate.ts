import { Agent, request } from 'node:http';

/**
 * An open-loop load generator: sends `rate` requests a second, evenly spaced,
 * whatever the server's latency, and measures each latency from the moment
 * the request was due (so a stalled server is not hidden by the generator
 * waiting for it: no coordinated omission). autocannon's rate limit releases
 * each second's requests in a burst, which measures the burst, not the rate.
 */
export interface FixedRateResult {
  acks: number;
  p50: number;
  p99: number;
  errors: number;
}

export async function fixedRate(url: string, next: () => { body: Buffer; headers: Record<string, string> }, rate: number, seconds: number): Promise<FixedRateResult> {
  // noDelay: a request written as headers + body must not wait for a delayed ACK (Nagle: up to 200 ms on Linux).
  const agent = new Agent({ keepAlive: true, maxSockets: 256, noDelay: true });
  const target = new URL(url);
  const latencies: number[] = [];
  let errors = 0;
  let ok = 0;
  const total = rate * seconds;
  const start = performance.now();
  let sent = 0;
  const inFlight = new Set<Promise<void>>();

  const send = (due: number): void => {
    const e = next();
    const p = new Promise<void>((resolve) => {
      const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { ...e.headers, 'content-length': e.body.length } }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - due);
          if (res.statusCode === 200) ok++;
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(e.body);
    });
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  };

  while (sent < total) {
    const now = performance.now();
    const dueCount = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
    for (; sent < dueCount; sent++) send(start + (sent * 1000) / rate);
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { acks: ok / ((performance.now() - start) / 1000), p50: q(0.5), p99: q(0.99), errors };
}
