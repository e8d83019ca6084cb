import { isAxiosError, type AxiosPromise, type InternalAxiosRequestConfig } from 'axios';
import type { HttpCallObserver } from '../metrics/http-call.ts';

type Adapter = (config: InternalAxiosRequestConfig) => AxiosPromise;

/**
 * The SDK's HTTP adapter, timed: every request it sends to PayPal (token
 * requests and the SDK's own retries included) is reported with its method,
 * path, status and latency. Below the SDK, because only here is one call one
 * HTTP exchange with a status.
 */
export function timedAdapter(observe: HttpCallObserver | undefined, send: Adapter): Adapter {
  if (observe === undefined) return send;
  return async (config) => {
    const started = performance.now();
    const report = (status: number | null) =>
      observe({ method: config.method ?? 'GET', path: new URL(config.url ?? '/', 'http://paypal.invalid').pathname, status, seconds: (performance.now() - started) / 1000 });
    try {
      const res = await send(config);
      report(res.status);
      return res;
    } catch (err) {
      // axios rejects a status its validateStatus refuses with the response attached; no response means no answer came.
      report(isAxiosError(err) ? (err.response?.status ?? null) : null);
      throw err;
    }
  };
}
