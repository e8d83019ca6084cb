import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createActions, type Delivery } from '../actions.ts';
import { startStage, type Stage, type StageOptions } from '../stage.ts';
import { PAGE_CSP, PAGE_HTML } from './page.ts';
import { createServeState, SERVE_MEMBERS, type DemoMember } from './state.ts';

/**
 * `npm run demo -- --serve`: the demo's stage (the stand-ins and the real
 * Concierge process) left running, with a small page on loopback to play it
 * by hand. GET / is the page, GET /api/state what it shows; each button POSTs
 * to /api/... and runs one of the demo's actions (src/demo/actions.ts), the
 * same calls the scripted story makes.
 */

export interface ServeOptions {
  /** 0 = any free port. */
  port?: number;
  members?: readonly DemoMember[];
  stage?: StageOptions;
}

export interface Serve {
  url: string;
  stage: Stage;
  close(): Promise<void>;
}

const DAY = 86_400_000;
const MAX_BODY = 1024;

/** An answer the page shows as it is (a wrong request, or an action the state does not allow). */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, ...SECURITY_HEADERS, ...extra }).end(body);
}
const sendJson = (res: ServerResponse, status: number, value: unknown) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_BODY) throw new ApiError(413, 'request body too large');
  }
  if (body === '') return {};
  try {
    const v: unknown = JSON.parse(body);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // answered below like any body that is not a JSON object
  }
  throw new ApiError(400, 'the body must be a JSON object');
}

const delivered = (d: Delivery) => `PayPal sent ${d.event.event_type}; Concierge answered ${d.status}${d.status === 200 ? '' : ` ${d.body}`}`;

export async function startServe(o: ServeOptions = {}): Promise<Serve> {
  const members = o.members ?? SERVE_MEMBERS;
  const stage = await startStage(o.stage);
  const act = createActions(stage);
  const state = createServeState(stage, act, members);
  for (const m of members) act.join(m.id, m.name);

  /** One per member button: runs the action, returns the text the page shows as the member's last reply. */
  const memberActions: Record<string, { label: (body: Record<string, unknown>) => string; run: (id: string, body: Record<string, unknown>) => Promise<string> }> = {
    subscribe: {
      label: (b) => `/subscribe tier:${String(b['tier'])}`,
      async run(id, b) {
        const tier = typeof b['tier'] === 'string' ? stage.catalog.byKey(b['tier']) : undefined;
        if (tier === undefined) throw new ApiError(400, `no such tier: ${String(b['tier'])}`);
        const reply = await act.subscribe(id, tier.key);
        state.setApproveUrl(id, reply.approveUrl);
        return reply.text;
      },
    },
    status: { label: () => '/status', run: async (id) => (await act.status(id)).text },
    scripts: { label: () => '/scripts', run: async (id) => (await act.scripts(id)).text },
    cancel: {
      label: () => '/cancel → Confirm',
      async run(id) {
        const { result } = await act.cancel(id, 'confirm');
        return result.text;
      },
    },
    approve: {
      label: () => 'approve pending checkout',
      async run(id) {
        const url = state.approveUrl(id);
        if (url === null) throw new ApiError(409, 'No checkout is pending: run /subscribe first.');
        const page = await act.approve(url);
        state.setApproveUrl(id, null);
        return `PayPal approved; Concierge's return page (${page.status}): ${page.heading}\n${page.text.replace(page.heading, '').trim()}`;
      },
    },
    renew: { label: () => 'renewal', run: async (id) => delivered((await act.renew(id)).delivery) },
    'fail-payment': { label: () => 'payment failure', run: async (id) => delivered(await act.failPayment(id)) },
    'cancel-at-paypal': { label: () => 'cancel at PayPal', run: async (id) => delivered(await act.cancelAtPaypal(id)) },
    refund: { label: () => 'refund', run: async (id) => delivered(await act.refund(id, true)) },
  };

  async function restart(): Promise<void> {
    state.setStarting(true);
    try {
      await stage.stopService('SIGTERM');
      await stage.startService();
    } finally {
      state.setStarting(false);
    }
  }

  const server = createServer();
  let origin = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Only our own address: another site's page (or a DNS-rebound name) gets nothing from this server.
    const host = req.headers.host ?? '';
    if (host !== new URL(origin).host && host !== `localhost:${new URL(origin).port}`) throw new ApiError(421, 'unexpected Host header');
    const path = new URL(req.url ?? '/', origin).pathname;
    // Node leaves the body out of a HEAD answer itself.
    const method = req.method === 'HEAD' ? 'GET' : req.method;

    if (method === 'GET' && path === '/') return send(res, 200, 'text/html; charset=utf-8', PAGE_HTML, { 'content-security-policy': PAGE_CSP });
    if (method === 'GET' && path === '/api/state') return sendJson(res, 200, state.view());
    if (method !== 'POST') throw new ApiError(path.startsWith('/api/') ? 405 : 404, 'not found');

    // A cross-site form cannot send JSON without a preflight this server never grants; the Origin check covers the rest.
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new ApiError(415, 'send application/json');
    const from = req.headers.origin;
    if (from !== undefined && from !== `http://${host}`) throw new ApiError(403, 'cross-origin request refused');
    const body = await readJson(req);

    const member = /^\/api\/members\/(\d{17,20})\/([a-z-]+)$/.exec(path);
    if (member !== null) {
      const [, id = '', name = ''] = member;
      const action = Object.hasOwn(memberActions, name) ? memberActions[name] : undefined;
      if (!state.has(id) || action === undefined) throw new ApiError(404, 'no such member or action');
      const label = action.label(body);
      try {
        const text = await action.run(id, body);
        state.setReply(id, label, text, true);
        return sendJson(res, 200, { reply: text });
      } catch (err) {
        if (err instanceof ApiError && err.status === 400) throw err;
        // The member sees what went wrong (e.g. no ACTIVE subscription to renew, or Concierge is down and never answered).
        state.setReply(id, label, (err as Error).message, false);
        return sendJson(res, 409, { error: (err as Error).message });
      }
    }
    if (path === '/api/clock/advance') {
      const days = body['days'];
      if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 366) throw new ApiError(400, 'days must be a whole number from 1 to 366');
      await stage.advance(days * DAY);
      return sendJson(res, 200, { now: new Date(stage.now()).toISOString() });
    }
    if (path === '/api/service/kill') {
      await stage.stopService('SIGKILL');
      return sendJson(res, 200, { service: 'stopped' });
    }
    if (path === '/api/service/restart') {
      await restart();
      return sendJson(res, 200, { service: 'running' });
    }
    throw new ApiError(404, 'not found');
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof ApiError ? err.status : 500;
      if (!res.headersSent) sendJson(res, status, { error: (err as Error).message });
      else res.end();
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, '127.0.0.1', resolve);
    });
  } catch (err) {
    await stage.close();
    throw err;
  }
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${origin}/`,
    stage,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stage.close();
    },
  };
}
