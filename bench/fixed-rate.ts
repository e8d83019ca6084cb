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
  // BENCH_TRACE=1: the phases of every request (socket assigned, connected, written, response head, end), to locate a slow ack.
  const trace = process.env['BENCH_TRACE'] === '1';
  const phases: { due: number; socket: number; connect: number; written: number; head: number; end: number; reused: boolean }[] = [];

  const send = (due: number): void => {
    const e = next();
    const p = new Promise<void>((resolve) => {
      const t = { due, socket: 0, connect: 0, written: 0, head: 0, end: 0, reused: false };
      const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { ...e.headers, 'content-length': e.body.length } }, (res) => {
        t.head = performance.now();
        res.resume();
        res.on('end', () => {
          t.end = performance.now();
          if (trace) phases.push(t);
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
      if (trace) {
        req.on('socket', (sock) => {
          t.socket = performance.now();
          t.reused = !sock.connecting;
          sock.once('connect', () => (t.connect = performance.now()));
        });
        req.on('finish', () => (t.written = performance.now()));
      }
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
  if (trace) {
    const slow = phases.filter((p) => p.end - p.due > 50).slice(0, 40);
    const r = (x: number, from: number) => (x === 0 ? '-' : (x - from).toFixed(1));
    process.stderr.write(`[trace] ${slow.length} slow of ${phases.length}; new sockets: ${phases.filter((p) => !p.reused).length}\n`);
    process.stderr.write(`[trace] phase start epoch ms ${(performance.timeOrigin + start).toFixed(1)}\n`);
    for (const p of slow) process.stderr.write(`[trace] due+${(p.due - start).toFixed(0)} socket ${r(p.socket, p.due)} connect ${r(p.connect, p.due)} written ${r(p.written, p.due)} head ${r(p.head, p.due)} end ${r(p.end, p.due)} ${p.reused ? 'reused' : 'new'}\n`);
  }
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { acks: ok / ((performance.now() - start) / 1000), p50: q(0.5), p99: q(0.99), errors };
}
