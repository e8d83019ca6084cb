import { monitorEventLoopDelay } from 'node:perf_hooks';
import Fastify, { LogController } from 'fastify';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { createWebhookVerifier } from '../src/paypal/verify-webhook.ts';
import { startService } from '../src/service.ts';

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
  const verifier = createWebhookVerifier({ webhookId: config.paypal.webhookId, certHosts: config.paypal.certHosts, maxAgeSeconds: config.webhook.maxAgeSeconds });
  const app = Fastify({ logController: new LogController({ disableRequestLogging: true }) });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
  app.post('/webhooks/paypal', async (req, reply) => {
    const v = await verifier.verify(req.headers, req.body as Buffer);
    return v.ok ? reply.send({ status: 'verified' }) : reply.code(400).send({ error: v.reason });
  });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
} else if (mode === 'concierge') {
  const service = await startService(config, createLogger('warn'));
  if (process.env['BENCH_NO_WORKER'] === '1') await service.runner.stop();
  url = service.url;
} else {
  throw new Error('usage: serve.ts verify|concierge');
}
process.stdout.write(`READY ${url}\n`);
// Event-loop delay while serving: printed on SIGINT, so a benchmark can tell a slow disk from a blocked loop.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
process.on('SIGINT', () => {
  process.stderr.write(`[${mode}] event-loop delay ms: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} max ${(loopDelay.max / 1e6).toFixed(1)}\n`);
  process.exit(0);
});
