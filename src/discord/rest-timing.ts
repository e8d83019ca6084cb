import { DefaultRestOptions, type RESTOptions } from 'discord.js';
import type { HttpCallObserver } from '../metrics/http-call.ts';

/**
 * discord.js's own request function, timed: every HTTP request the REST
 * manager sends (retries and 429s included) is reported with its method,
 * path, status and latency. The REST `response` event carries no timing,
 * and `makeRequest` is REST's documented option for replacing the transport.
 */
export function timedRequests(observe: HttpCallObserver | undefined): RESTOptions['makeRequest'] {
  const send = DefaultRestOptions.makeRequest;
  if (observe === undefined) return send;
  return async (url, init) => {
    const started = performance.now();
    const report = (status: number | null) => observe({ method: init.method ?? 'GET', path: new URL(url).pathname, status, seconds: (performance.now() - started) / 1000 });
    try {
      const res = await send(url, init);
      report(res.status);
      return res;
    } catch (err) {
      report(null);
      throw err;
    }
  };
}
