import { Worker } from 'node:worker_threads';
import { processWebhookJob } from '../jobs/definitions.ts';
import type { Logger } from '../log.ts';
import { bundleWorker } from './bundle-worker.ts';
import type { FromWriter, IngestOutcome, IngestRequest, ToWriter, WriterData } from './writer-messages.ts';

export type { IngestOutcome } from './writer-messages.ts';

/**
 * The writer thread's health for /readyz. A type alias, not an interface, so
 * it fits the readiness roll-up's open-ended check record without this
 * folder importing http/.
 */
export type WriterHealth = { ok: true } | { ok: false; detail: string };

export interface IngestReceipt {
  outcome: IngestOutcome;
  /** PayPal's event id; null when the body was not an event envelope. */
  eventId: string | null;
}

export interface WebhookIngest {
  /**
   * Stores a verified delivery. Resolves once its inbox row and processing
   * job are committed durably (or it proved a duplicate, or not an event
   * envelope); rejects when it could not be stored (answer 5xx: PayPal retries).
   */
  submit(delivery: { text: string; transmissionId: string }): Promise<IngestReceipt>;
  /** /readyz: is the writer thread up. */
  check(): WriterHealth;
  /** The writer thread while it runs (diagnostics, and fault tests that stop it the way a crash would). */
  thread(): Worker | null;
  /** Stops the writer after the deliveries already handed to it (call after the HTTP server closed). */
  close(): Promise<void>;
}

interface Waiting {
  resolve: (r: IngestReceipt) => void;
  reject: (e: Error) => void;
}

const WRITER = new URL('./writer-thread.ts', import.meta.url);
/** A writer thread that died is started again after this long (PayPal retries whatever was refused meanwhile). */
const RESTART_MS = 1000;
const CLOSE_TIMEOUT_MS = 5000;

/**
 * Webhook ingest, main-thread side. Verified deliveries of one event-loop
 * turn go to the writer thread (ingest/writer-thread.ts) in one message; its
 * answers settle each request. See the writer for why it is a thread.
 */
export async function startWebhookIngest(o: {
  databasePath: string;
  clock: () => number;
  log: Logger;
  onReceived?: () => void;
  onCommitted?: () => void;
}): Promise<WebhookIngest> {
  const waiting = new Map<number, Waiting>();
  let outbox: IngestRequest[] = [];
  let posting = false;
  let seq = 0;
  let worker: Worker | null = null;
  let lastError: string | null = null;
  let closing = false;
  /** Restarts only after a first successful start: a writer that cannot open the database fails the service's start instead. */
  let started = false;

  const failAll = (why: string): void => {
    const err = new Error(why);
    outbox = [];
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };

  const settle = (m: Extract<FromWriter, { type: 'results' }>): void => {
    if (m.error !== null) o.log.error({ error: m.error }, 'webhook group could not be committed; its deliveries get 503 and PayPal retries them');
    let committed = false;
    for (const r of m.results) {
      const w = waiting.get(r.seq);
      if (w === undefined) continue;
      waiting.delete(r.seq);
      if (r.outcome === 'failed') w.reject(new Error(`webhook not stored: ${m.error ?? 'unknown error'}`));
      else {
        if (r.outcome === 'stored') committed = true;
        w.resolve({ outcome: r.outcome, eventId: r.eventId });
      }
    }
    if (committed) o.onCommitted?.();
  };

  const script = await bundleWorker(WRITER, ['better-sqlite3']);
  const spawn = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const data: WriterData = { databasePath: o.databasePath, job: { kind: processWebhookJob.kind, maxAttempts: processWebhookJob.maxAttempts } };
      const w = new Worker(script, { eval: true, workerData: data });
      // The HTTP server and the job runner keep the process alive; close() ends the writer.
      w.unref();
      w.on('message', (m: FromWriter) => {
        if (m.type === 'ready') {
          worker = w;
          lastError = null;
          resolve();
        } else if (m.type === 'fatal') {
          lastError = m.message;
          reject(new Error(`the webhook writer could not open the database ${o.databasePath}: ${m.message}. Check that the file and its directory are writable.`));
        } else settle(m);
      });
      w.on('error', (err) => {
        lastError = err.message;
        o.log.error({ err }, 'webhook writer thread failed');
      });
      w.on('exit', (code) => {
        if (worker === w) worker = null;
        // Deliveries in flight may or may not have committed: refusing them is safe (a redelivery of a stored event is a no-op).
        failAll(`webhook writer stopped (exit code ${code})`);
        reject(new Error(`the webhook writer stopped before it was ready (exit code ${code})${lastError === null ? '' : `: ${lastError}`}`));
        if (closing || !started) return;
        lastError ??= `exit code ${code}`;
        o.log.error({ code, restartInMs: RESTART_MS }, 'webhook writer thread stopped; webhooks get 503 (PayPal retries) until it is back');
        setTimeout(() => {
          if (!closing) spawn().catch((err: unknown) => o.log.error({ err }, 'webhook writer did not restart'));
        }, RESTART_MS).unref();
      });
    });

  const post = (): void => {
    posting = false;
    const events = outbox;
    outbox = [];
    if (worker === null) return failAll(`webhook writer is not running (${lastError ?? 'starting'})`);
    worker.postMessage({ type: 'ingest', events } satisfies ToWriter);
  };

  await spawn();
  started = true;

  return {
    submit: (delivery) =>
      new Promise<IngestReceipt>((resolve, reject) => {
        o.onReceived?.();
        if (worker === null || closing) return reject(new Error(`webhook writer is not running (${closing ? 'shutting down' : (lastError ?? 'starting')})`));
        const s = ++seq;
        waiting.set(s, { resolve, reject });
        outbox.push({ seq: s, text: delivery.text, transmissionId: delivery.transmissionId, receivedAt: o.clock() });
        if (!posting) {
          posting = true;
          setImmediate(post);
        }
      }),
    check: () =>
      worker !== null
        ? { ok: true }
        : { ok: false, detail: `the webhook writer thread is down (${lastError ?? 'starting'}); it restarts by itself. If this persists, check the database file, its directory's permissions and free disk space.` },
    thread: () => worker,
    close: async () => {
      closing = true;
      const w = worker;
      if (w === null) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ type: 'close' } satisfies ToWriter);
      const timer = setTimeout(() => void w.terminate(), CLOSE_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
