import { parentPort, workerData } from 'node:worker_threads';
import { signWebhook } from '../src/stand-ins/paypal/sign-webhook.ts';

/** Signs a slice of the benchmark's events (RSA signing is ~3,000/s a core, so it is done up front, in parallel). */
const { bodies, webhookId, certUrl } = workerData as { bodies: string[]; webhookId: string; certUrl: string };
const transmissionTime = new Date().toISOString();
parentPort?.postMessage(bodies.map((body) => ({ body, headers: signWebhook({ body, webhookId, certUrl, transmissionTime }) })));
