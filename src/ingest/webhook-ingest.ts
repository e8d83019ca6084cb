import { Worker } from 'node:worker_threads';
import { processWebhookJob } from '../jobs/definitions.ts';
import type { Logger } from '../log.ts';
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
  /** PayPal's event type (metrics); null when the body was not an event envelope. */
  eventType: string | null;
}

export interface WebhookIngest {
  /**
   * Stores a verified delivery. Resolves once its inbox row and processing
   * job are committed durably (or it proved a duplicate, or not an event
   * envelope); rejects when it could not be stored (answer 5xx: PayPal retries).
   */
  submit(delivery: { text: string; transmissionId: string }): Promise<IngestReceipt>;
  /** /readyz: is the writer thread up (and still taking webhooks). */
  check(): WriterHealth;
  /** False once the service is shutting down: the webhook route answers 503 with Retry-After before verifying. */
  accepting(): boolean;
  /** Shutdown: take no new deliveries; those already handed over are still stored. */
  stopAccepting(): void;
  /** The writer thread while it runs (diagnostics, and fault tests that stop it the way a crash would). */
  thread(): Worker | null;
  /** Stops the writer after the deliveries already handed to it (call after the HTTP server closed). */
  close(): Promise<void>;
}

interface Waiting {
  resolve: (r: IngestReceipt) => void;
  reject: (e: Error) => void;
}

/**
 * Compiled (dist/, `npm start`) this module is a .js file and the writer is the compiled file next to it; run
 * from source (tsx: tests, the demo, benchmarks) it is a .ts file, and the writer is bundled at start (see
 * bundle-worker.ts), which is why esbuild is needed in development only.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
/** A writer thread that died is started again after this long (PayPal retries whatever was refused meanwhile). */
const RESTART_MS = 1000;
const CLOSE_TIMEOUT_MS = 5000;

export interface IngestOptions {
  databasePath: string;
  clock: () => number;
  log: Logger;
  onReceived?: () => void;
  onCommitted?: () => void;
}

/** The main-thread side's state, one per service. */
interface IngestState {
  readonly o: IngestOptions;
  /** Starts one writer thread (from its compiled file, or from a bundle when run from source). */
  readonly spawn: (data: WriterData) => Worker;
  /** Requests handed over, by seq, until the writer answers them. */
  readonly waiting: Map<number, Waiting>;
  /** Requests of this event-loop turn: posted to the writer in one message. */
  outbox: IngestRequest[];
  posting: boolean;
  seq: number;
  worker: Worker | null;
  lastError: string | null;
  closing: boolean;
  /** Set by stopAccepting (shutdown), before `closing`: the writer still stores what it was given. */
  draining: boolean;
  /** Restarts only after a first successful start: a writer that cannot open the database fails the service's start instead. */
  started: boolean;
}

/**
 * Webhook ingest, main-thread side. Verified deliveries of one event-loop
 * turn go to the writer thread (ingest/writer-thread.ts) in one message; its
 * answers settle each request. See the writer for why it is a thread.
 */
export async function startWebhookIngest(o: IngestOptions): Promise<WebhookIngest> {
  const spawn = await prepareWriter();
  const s: IngestState = { o, spawn, waiting: new Map(), outbox: [], posting: false, seq: 0, worker: null, lastError: null, closing: false, draining: false, started: false };
  await spawnWriter(s);
  s.started = true;
  return {
    submit: (delivery) => submit(s, delivery),
    check: () => checkWriter(s),
    accepting: () => !s.draining,
    stopAccepting: () => void (s.draining = true),
    thread: () => s.worker,
    close: () => closeWriter(s),
  };
}

function checkWriter(s: IngestState): WriterHealth {
  if (s.draining) return { ok: false, detail: 'Concierge is shutting down; webhooks get 503 until it is back' };
  if (s.worker !== null) return { ok: true };
  return { ok: false, detail: `the webhook writer thread is down (${s.lastError ?? 'starting'}); it restarts by itself. If this persists, check the database file, its directory's permissions and free disk space.` };
}

async function prepareWriter(): Promise<(data: WriterData) => Worker> {
  if (!FROM_SOURCE) {
    const file = new URL('./writer-thread.js', import.meta.url);
    return (workerData) => new Worker(file, { workerData });
  }
  // Imported only here: production never loads esbuild.
  const { bundleWorker } = await import('./bundle-worker.ts');
  const script = await bundleWorker(new URL('./writer-thread.ts', import.meta.url), ['better-sqlite3']);
  return (workerData) => new Worker(script, { eval: true, workerData });
}

function submit(s: IngestState, delivery: { text: string; transmissionId: string }): Promise<IngestReceipt> {
  return new Promise<IngestReceipt>((resolve, reject) => {
    s.o.onReceived?.();
    if (s.worker === null || s.closing || s.draining) return reject(new Error(`webhook writer is not running (${s.closing || s.draining ? 'shutting down' : (s.lastError ?? 'starting')})`));
    const seq = ++s.seq;
    s.waiting.set(seq, { resolve, reject });
    s.outbox.push({ seq, text: delivery.text, transmissionId: delivery.transmissionId, receivedAt: s.o.clock() });
    if (!s.posting) {
      s.posting = true;
      setImmediate(() => post(s));
    }
  });
}

function post(s: IngestState): void {
  s.posting = false;
  const events = s.outbox;
  s.outbox = [];
  if (s.worker === null) return failAll(s, `webhook writer is not running (${s.lastError ?? 'starting'})`);
  s.worker.postMessage({ type: 'ingest', events } satisfies ToWriter);
}

function failAll(s: IngestState, why: string): void {
  const err = new Error(why);
  s.outbox = [];
  for (const w of s.waiting.values()) w.reject(err);
  s.waiting.clear();
}

function settle(s: IngestState, m: Extract<FromWriter, { type: 'results' }>): void {
  if (m.error !== null) s.o.log.error({ error: m.error }, 'webhook group could not be committed; its deliveries get 503 and PayPal retries them');
  let committed = false;
  for (const r of m.results) {
    const w = s.waiting.get(r.seq);
    if (w === undefined) continue;
    s.waiting.delete(r.seq);
    if (r.outcome === 'failed') w.reject(new Error(`webhook not stored: ${m.error ?? 'unknown error'}`));
    else {
      if (r.outcome === 'stored') committed = true;
      w.resolve({ outcome: r.outcome, eventId: r.eventId, eventType: r.eventType });
    }
  }
  if (committed) s.o.onCommitted?.();
}

/** Starts the writer thread; resolves once it opened the database. A thread that stops after the first start is started again. */
function spawnWriter(s: IngestState): Promise<void> {
  const { o } = s;
  return new Promise<void>((resolve, reject) => {
    const data: WriterData = { databasePath: o.databasePath, job: { kind: processWebhookJob.kind, maxAttempts: processWebhookJob.maxAttempts } };
    const w = s.spawn(data);
    // The HTTP server and the job runner keep the process alive; close() ends the writer.
    w.unref();
    w.on('message', (m: FromWriter) => {
      if (m.type === 'ready') {
        s.worker = w;
        s.lastError = null;
        resolve();
      } else if (m.type === 'fatal') {
        s.lastError = m.message;
        reject(new Error(`the webhook writer could not open the database ${o.databasePath}: ${m.message}. Check that the file and its directory are writable.`));
      } else settle(s, m);
    });
    w.on('error', (err) => {
      s.lastError = err.message;
      o.log.error({ err }, 'webhook writer thread failed');
    });
    w.on('exit', (code) => {
      if (s.worker === w) s.worker = null;
      // Deliveries in flight may or may not have committed: refusing them is safe (a redelivery of a stored event is a no-op).
      failAll(s, `webhook writer stopped (exit code ${code})`);
      reject(new Error(`the webhook writer stopped before it was ready (exit code ${code})${s.lastError === null ? '' : `: ${s.lastError}`}`));
      if (s.closing || !s.started) return;
      s.lastError ??= `exit code ${code}`;
      o.log.error({ code, restartInMs: RESTART_MS }, 'webhook writer thread stopped; webhooks get 503 (PayPal retries) until it is back');
      setTimeout(() => {
        if (!s.closing) spawnWriter(s).catch((err: unknown) => o.log.error({ err }, 'webhook writer did not restart'));
      }, RESTART_MS).unref();
    });
  });
}

async function closeWriter(s: IngestState): Promise<void> {
  s.closing = true;
  const w = s.worker;
  if (w === null) return;
  const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
  w.postMessage({ type: 'close' } satisfies ToWriter);
  const timer = setTimeout(() => void w.terminate(), CLOSE_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
