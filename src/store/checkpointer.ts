import { Worker } from 'node:worker_threads';

/**
 * Moves WAL checkpoints off the event loop. SQLite's automatic checkpoint
 * runs inside whichever commit crosses 1,000 WAL pages and copies ~4 MB back
 * into the database with two fsyncs: tens of milliseconds during which every
 * request waits. Here a worker thread with its own connection runs a PASSIVE
 * checkpoint (it never blocks readers or writers) every `intervalMs`, and the
 * main connection's automatic checkpoint is turned off.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require('better-sqlite3');
const db = new Database(workerData.path);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage(String(err && err.message || err)); }
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); process.exit(0); });
`;

export interface Checkpointer {
  close(): Promise<void>;
}

export function startCheckpointer(path: string, o: { intervalMs?: number; onError?: (message: string) => void } = {}): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs: o.intervalMs ?? 1000 } });
  worker.on('message', (m: string) => o.onError?.(m));
  worker.on('error', (err) => o.onError?.(err.message));
  worker.unref();
  return {
    close: async () => {
      worker.postMessage('stop');
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => void worker.terminate().then(() => resolve()), 2000);
        worker.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}
