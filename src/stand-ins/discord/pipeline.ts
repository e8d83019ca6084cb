import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { ApiFailure, unauthorized } from './errors.ts';
import { createRouter, major, readBody, sendReply, type Reply, type Route } from './http.ts';
import { defaultFaultBody, type createFaults } from './faults.ts';
import type { BucketSpec, RateLimits } from './rate-limit.ts';
import type { ChannelStore } from './channels.ts';

/**
 * One REST request, in Discord's order: route → bot token → global limit →
 * bucket → (injected fault) → handler. Every request is logged with the
 * status it got, faulted and rate-limited ones included.
 */

export interface RecordedRequest {
  method: string;
  /** After `/api/v10`, percent-decoded: `/webhooks/1/abc/messages/@original`. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON (or `payload_json` of a multipart body); undefined when empty. */
  body: unknown;
  files: { field: string; filename: string; size: number }[];
  /** `X-Audit-Log-Reason`, decoded. */
  reason: string | null;
  at: Date;
  /** 0 until answered. */
  status: number;
}

export interface PipelineDeps {
  token: string;
  routes: readonly Route[];
  limits: RateLimits;
  faults: ReturnType<typeof createFaults>;
  channels: ChannelStore;
  defaultBucket: (route: Route, params: Record<string, string>) => BucketSpec;
  sleep: (ms: number) => Promise<void>;
  onAnswered: (r: RecordedRequest) => void;
}

export function createPipeline(d: PipelineDeps) {
  const router = createRouter(d.routes);
  const requests: RecordedRequest[] = [];
  let invalid = 0;

  function finish(res: ServerResponse, entry: RecordedRequest | null, reply: Reply, headers: Record<string, string> = {}): void {
    sendReply(res, reply, headers);
    if (!entry) return;
    entry.status = reply.status;
    // Discord bans an IP after 10,000 of these in 10 minutes.
    if (reply.status === 401 || reply.status === 403 || reply.status === 429) invalid += 1;
    d.onAnswered(entry);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname.startsWith('/attachments/')) {
      const file = d.channels.file(url.pathname);
      if (!file) return finish(res, null, { status: 404 });
      res.writeHead(200, { 'content-type': file.contentType });
      res.end(file.data);
      return;
    }
    const m = /^\/api\/v(\d+)(\/.*)$/.exec(url.pathname);
    if (!m || m[1] !== '10') return finish(res, null, { status: 404, json: { message: '404: Not Found', code: 0 } });
    const path = decodeURIComponent(m[2] ?? '/').replace(/\/+$/, '') || '/';
    const entry: RecordedRequest = { method, path, query: Object.fromEntries(url.searchParams), headers: req.headers, body: undefined, files: [], reason: null, at: new Date(), status: 0 };
    requests.push(entry);
    const reasonHeader = req.headers['x-audit-log-reason'];
    entry.reason = typeof reasonHeader === 'string' ? decodeURIComponent(reasonHeader) : null;

    let parsed: Awaited<ReturnType<typeof readBody>>;
    try {
      parsed = await readBody(req);
    } catch (e) {
      if (e instanceof ApiFailure) return finish(res, entry, { status: e.status, json: e.body() });
      throw e;
    }
    entry.body = parsed.body;
    entry.files = parsed.files.map((f) => ({ field: f.field, filename: f.filename, size: f.data.length }));

    const match = router.match(method, path);
    if (match === null) return finish(res, entry, { status: 404, json: { message: '404: Not Found', code: 0 } });
    if (match === 'methodNotAllowed') return finish(res, entry, { status: 405, json: { message: '405: Method Not Allowed', code: 0 } });
    const { route, params } = match;
    if (route.auth && req.headers.authorization !== `Bot ${d.token}`) return finish(res, entry, { status: 401, json: unauthorized().body() });

    // Interaction endpoints are not bound to the global limit.
    if (route.auth) {
      const g = d.limits.global();
      if (g?.refused) return finish(res, entry, { status: 429, json: g.refused.body }, g.headers);
    }
    const bucket = route.bucket?.(params) ?? d.defaultBucket(route, params);
    const verdict = d.limits.take(bucket);
    if (verdict.refused) return finish(res, entry, { status: 429, json: verdict.refused.body }, verdict.headers);

    const run = (): Reply => {
      try {
        return route.handle({ method, path, params, query: url.searchParams, body: parsed.body, files: parsed.files, reason: entry.reason });
      } catch (e) {
        if (!(e instanceof ApiFailure)) throw e;
        return { status: e.status, json: e.body() };
      }
    };
    const fault = d.faults.take(method, path);
    // afterEffect: the change is made now; only the answer is faulted.
    const handled = fault?.afterEffect === true ? run() : null;
    if (fault?.delayMs) await d.sleep(fault.delayMs);
    if (fault?.drop) {
      req.socket.destroy();
      return;
    }
    if (fault?.status !== undefined) {
      const headers = fault.status === 429 ? d.limits.injected(bucket, fault.retryAfter ?? 1, fault.scope ?? 'user') : verdict.headers;
      return finish(res, entry, { status: fault.status, json: defaultFaultBody(fault) }, headers);
    }
    finish(res, entry, handled ?? run(), verdict.headers);
  }

  return {
    handle,
    requests,
    invalidRequests: (): number => invalid,
    clear(): void {
      requests.length = 0;
      invalid = 0;
    },
  };
}

export const defaultBucketFor =
  (limit: number, windowMs: number) =>
  (route: Route, params: Record<string, string>): BucketSpec => ({ key: `${route.method} ${route.template}:${major(params)}`, limit, windowMs });
