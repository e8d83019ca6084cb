import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDelays, createFaults, type BaseFaultSpec, type FaultHandle } from '../faults.ts';
import { createMarketplaceState, memberBodySchema, publisherBodySchema, type ApplyOutcome, type MemberState, type PublisherState } from './state.ts';
import { checkSignature, type SignatureCheck } from './verify.ts';

/**
 * A marketplace API stand-in on loopback HTTP, for tests and the demo: it
 * verifies every request's signature and timestamp as a real receiver must
 * (401 otherwise), keeps each member's state at the highest version
 * received, records every call, and can answer with injected faults (5xx,
 * 429 with Retry-After, 400, a delay, a dropped connection).
 */

export type { MemberState, PublisherState };
export type MarketplaceFaultSpec = BaseFaultSpec;

export interface MarketplaceStandInOptions {
  /** The shared key (MARKETPLACE_API_KEY). */
  key?: string;
  /** The receiver's clock in ms, which timestamps are checked against; tests pass the service's. */
  now?: () => number;
}

export interface MarketplaceCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The bytes as received, as UTF-8. */
  rawBody: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  body: unknown;
  /** The signature check, made on every request (faulted ones too). */
  signature: SignatureCheck;
  /** What the stand-in answered. */
  status: number;
  /** For an accepted PUT: whether it replaced the held state (false: an equal or newer version was held). */
  applied: boolean | null;
  at: number;
}

export type MarketplaceStandIn = Awaited<ReturnType<typeof createMarketplaceStandIn>>;

const MAX_BODY_BYTES = 1024 * 1024;
const MEMBER_PATH = /^\/v1\/members\/([^/]+)$/;

interface Reply {
  status: number;
  json: unknown;
  headers?: Record<string, string>;
  applied?: boolean;
}

export async function createMarketplaceStandIn(opts: MarketplaceStandInOptions = {}) {
  const key = opts.key ?? 'test-marketplace-key';
  const now = opts.now ?? Date.now;
  const calls: MarketplaceCall[] = [];
  const faults = createFaults<MarketplaceFaultSpec>();
  const state = createMarketplaceState();
  const delays = createDelays();

  function route(method: string, path: string, body: unknown): Reply {
    if (method !== 'PUT') return { status: 405, json: { error: 'method_not_allowed' } };
    const memberId = MEMBER_PATH.exec(path)?.[1];
    if (memberId !== undefined) {
      const parsed = memberBodySchema.safeParse(body);
      if (!parsed.success) return { status: 400, json: { error: 'invalid_body', detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) } };
      return answer(state.putMember(decodeURIComponent(memberId), parsed.data));
    }
    if (path === '/v1/publisher') {
      const parsed = publisherBodySchema.safeParse(body);
      if (!parsed.success) return { status: 400, json: { error: 'invalid_body', detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) } };
      return answer(state.putPublisher(parsed.data));
    }
    return { status: 404, json: { error: 'not_found' } };
  }

  /** A version not newer than the held one is acknowledged and ignored (2xx), as README asks of receivers. */
  const answer = (o: ApplyOutcome): Reply => ({ status: 200, json: o, applied: o.applied });

  async function handle(req: IncomingMessage): Promise<{ call: Omit<MarketplaceCall, 'status' | 'applied'>; reply: Reply | 'drop' }> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size <= MAX_BODY_BYTES) chunks.push(c as Buffer);
    }
    const raw = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    let body: unknown = undefined;
    try {
      body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
    } catch {
      body = undefined; // answered 400 below; the raw text stays in the record
    }
    const signature = checkSignature(key, req.headers, raw, Math.floor(now() / 1000));
    const call = { method, path, headers: req.headers, rawBody: raw.toString('utf8'), body, signature, at: now() };

    const fault = faults.take(method, path);
    if (fault?.delayMs) await delays.sleep(fault.delayMs);
    if (fault?.drop) return { call, reply: 'drop' };
    if (fault?.status !== undefined) {
      const headers = fault.retryAfter === undefined ? undefined : { 'retry-after': String(fault.retryAfter) };
      return { call, reply: { status: fault.status, json: fault.body ?? { error: 'injected_fault', status: fault.status }, ...(headers ? { headers } : {}) } };
    }
    if (size > MAX_BODY_BYTES) return { call, reply: { status: 413, json: { error: 'body_too_large' } } };
    if (signature !== 'ok') return { call, reply: { status: 401, json: { error: signature } } };
    if (raw.length > 0 && body === undefined) return { call, reply: { status: 400, json: { error: 'invalid_json' } } };
    return { call, reply: route(method, path, body) };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    handle(req)
      .then(({ call, reply }) => {
        if (reply === 'drop') {
          calls.push({ ...call, status: 0, applied: null });
          req.socket.destroy();
          return;
        }
        calls.push({ ...call, status: reply.status, applied: reply.applied ?? null });
        if (res.destroyed) return; // the client gave up (its timeout fired during a delay)
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(JSON.stringify(reply.json));
      })
      .catch((err: unknown) => {
        // A bug in the stand-in must fail the test loudly, not hang it.
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'stand_in_bug', detail: String(err) }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    /** MARKETPLACE_API_URL for the service. */
    url,
    /** MARKETPLACE_API_KEY for the service. */
    key,
    /** Every request received, oldest first (rejected and faulted ones included). */
    calls: calls as readonly MarketplaceCall[],
    /** The requests to one path (a RegExp: matching paths), oldest first. */
    callsTo: (path: string | RegExp): MarketplaceCall[] => calls.filter((c) => (typeof path === 'string' ? c.path === path : path.test(c.path))),
    /** A member's state at the highest version received. */
    member: (memberId: string): MemberState | undefined => state.member(memberId),
    publisher: (): PublisherState | null => state.publisher(),
    fault: (spec: MarketplaceFaultSpec): FaultHandle => faults.add(spec),
    clearFaults: (): void => faults.clear(),
    reset: (): void => {
      calls.length = 0;
      faults.clear();
      state.clear();
    },
    close: async (): Promise<void> => {
      delays.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
