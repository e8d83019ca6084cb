import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UploadedFile } from './channels.ts';
import type { BucketSpec } from './rate-limit.ts';
import { invalidFormBody, type ApiFailure } from './errors.ts';

/**
 * Request parsing (JSON, or multipart with `payload_json` + `files[n]` as
 * discord.js sends attachments), replies, and a small router over route
 * templates such as `/guilds/:guild/members/:user`.
 */

export interface Reply {
  status: number;
  json?: unknown;
}

export interface RouteContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  files: UploadedFile[];
  /** `X-Audit-Log-Reason`, decoded. */
  reason: string | null;
}

export interface Route {
  method: string;
  template: string;
  /** Needs `Authorization: Bot <token>` (interaction callbacks and webhooks do not). */
  auth: boolean;
  /** The bucket this request counts against; default one per route and major parameter. */
  bucket?: (params: Record<string, string>) => BucketSpec;
  handle(ctx: RouteContext): Reply;
}

export async function readBody(req: IncomingMessage): Promise<{ body: unknown; files: UploadedFile[] }> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  if (raw.length === 0) return { body: undefined, files: [] };
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
    const files: UploadedFile[] = [];
    let body: unknown;
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') body = JSON.parse(value) as unknown;
      } else {
        files.push({ field, filename: value.name, contentType: value.type || 'application/octet-stream', data: Buffer.from(await value.arrayBuffer()) });
      }
    }
    return { body, files };
  }
  const text = raw.toString('utf8');
  if (type.includes('json')) {
    try {
      return { body: JSON.parse(text) as unknown, files: [] };
    } catch {
      throw invalidFormBody([{ path: [], code: 'BASE_TYPE_INVALID_JSON', message: 'The request body contains invalid JSON.' }]) as ApiFailure;
    }
  }
  return { body: text, files: [] };
}

/** 204 (and any reply without a body) carries no Content-Type: discord.js would try to parse it as JSON. */
export function sendReply(res: ServerResponse, reply: Reply, headers: Record<string, string>): void {
  if (res.destroyed || res.headersSent) return;
  if (reply.json === undefined) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  res.writeHead(reply.status, { ...headers, 'content-type': 'application/json' });
  res.end(JSON.stringify(reply.json));
}

interface Compiled {
  route: Route;
  regex: RegExp;
  names: string[];
}

export function createRouter(routes: readonly Route[]) {
  const compiled: Compiled[] = routes.map((route) => {
    const names: string[] = [];
    const pattern = route.template
      .split('/')
      .map((seg) => {
        if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\@]/g, '\\$&');
        names.push(seg.slice(1));
        return '([^/]+)';
      })
      .join('/');
    return { route, regex: new RegExp(`^${pattern}$`), names };
  });

  return {
    /** The route and its parameters; `methodNotAllowed` when the path exists for other methods. */
    match(method: string, path: string): { route: Route; params: Record<string, string> } | 'methodNotAllowed' | null {
      let pathKnown = false;
      for (const c of compiled) {
        const m = c.regex.exec(path);
        if (!m) continue;
        pathKnown = true;
        if (c.route.method !== method) continue;
        const params: Record<string, string> = {};
        c.names.forEach((n, i) => {
          params[n] = m[i + 1] ?? '';
        });
        return { route: c.route, params };
      }
      return pathKnown ? 'methodNotAllowed' : null;
    },
  };
}

export function major(params: Record<string, string>): string {
  return params['guild'] ?? params['channel'] ?? params['interaction'] ?? params['app'] ?? '0';
}
