import { monitorEventLoopDelay } from 'node:perf_hooks';
import Fastify, { LogController } from 'fastify';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { createTrustAnchors } from '../src/paypal/signing-cert.ts';
import { createWebhookVerifier } from '../src/paypal/verify-webhook.ts';
import { startServiceWithParts, type ServiceParts } from '../src/service.ts';

/**
 * A server under benchmark, in its own process (as in production):
 *   verify    — the floor: a bare Fastify route that keeps the raw body and verifies the signature, no storage
 *   concierge — the real service (group commit, synchronous=FULL, job worker running)
 * Configuration comes from the environment; prints "READY <url>" when listening.
 */
const mode = process.argv[2];
const config = loadConfig(process.env);
let url: string;
if (mode === 'verify') {
  const verifier = createWebhookVerifier({
    webhookId: config.paypal.webhookId,
    mode: config.paypal.mode,
    certHosts: config.paypal.certHosts,
    trustAnchors: createTrustAnchors(config.paypal.certCa?.pem ?? null),
    maxAgeSeconds: config.webhook.maxAgeSeconds,
  });
  const app = Fastify({ logController: new LogController({ disableRequestLogging: true }) });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
  app.post('/webhooks/paypal', async (req, reply) => {
    const v = await verifier.verify(req.headers, req.body as Buffer);
    return v.ok ? reply.send({ status: 'verified' }) : reply.code(400).send({ error: v.reason });
  });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
} else if (mode === 'concierge') {
  const { service, parts } = await startServiceWithParts(config, createLogger('warn'));
  if (process.env['BENCH_NO_WORKER'] === '1') await parts.runner.stop();
  // BENCH_PRAGMA="wal_autocheckpoint=0;cache_size=-65536": storage experiments without editing the service.
  for (const p of (process.env['BENCH_PRAGMA'] ?? '').split(';').filter((x) => x !== '')) parts.store.sqlite.pragma(p);
  if (process.env['BENCH_TRACE'] === '1') traceService(parts);
  // BENCH_NO_STORE=1: the real service but every verified webhook is answered without storing it, to measure what storage costs.
  if (process.env['BENCH_NO_STORE'] === '1') parts.ingest.submit = async () => ({ outcome: 'stored', eventId: null, eventType: null });
  url = service.url;
} else {
  throw new Error('usage: serve.ts verify|concierge');
}
process.stdout.write(`READY ${url}\n`);

/**
 * BENCH_TRACE=1: server-side time of every request (Node's 'request' event to
 * 'finish'), printed on SIGINT around the slowest
 * request, to tell where a slow acknowledgement spent its time.
 */
function traceService(service: ServiceParts): void {
  const requests: { at: number; ms: number }[] = [];
  // Maps a CPU profile's monotonic microseconds (BENCH_CPUPROF=1) to wall-clock time.
  process.stderr.write(`[trace] clock pair: hrtime_us ${process.hrtime.bigint() / 1000n} epoch_ms ${(performance.timeOrigin + performance.now()).toFixed(1)}\n`);
  const conns: { accepted: number; firstRequest: number }[] = [];
  service.http.server.on('connection', (sock) => {
    const c = { accepted: performance.timeOrigin + performance.now(), firstRequest: 0 };
    conns.push(c);
    sock.once('data', () => (c.firstRequest = performance.timeOrigin + performance.now()));
  });
  service.http.server.on('request', (_req, res) => {
    const at = performance.now();
    res.on('finish', () => requests.push({ at, ms: performance.now() - at }));
  });
  process.on('SIGINT', () => {
    const sorted = requests.map((r) => r.ms).sort((a, b) => a - b);
    const q = (p: number) => (sorted[Math.floor(sorted.length * p)] ?? 0).toFixed(1);
    const worst = requests.reduce((a, b) => (b.ms > a.ms ? b : a), { at: 0, ms: 0 });
    const near = (xs: { at: number; ms: number }[]) => xs.filter((x) => x.at > worst.at - 50 && x.at < worst.at + worst.ms + 10);
    process.stderr.write(`[trace] server-side ms: p50 ${q(0.5)} p99 ${q(0.99)} max ${worst.ms.toFixed(1)}\n`);
    process.stderr.write(`[trace] connections (epoch ms accepted, first data +ms): ${JSON.stringify(conns.map((c) => [+c.accepted.toFixed(1), +(c.firstRequest - c.accepted).toFixed(1)]).slice(0, 60))}\n`);
    process.stderr.write(`[trace] requests ${JSON.stringify(near(requests).map((r) => [+(r.at - worst.at).toFixed(1), +r.ms.toFixed(1)]).slice(0, 80))}\n`);
  });
}
// Event-loop delay while serving: printed on SIGINT, so a benchmark can tell a slow disk from a blocked loop.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
process.on('SIGINT', () => {
  process.stderr.write(`[${mode}] event-loop delay ms: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} max ${(loopDelay.max / 1e6).toFixed(1)}; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB\n`);
  process.exit(0);
});
