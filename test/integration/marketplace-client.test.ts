import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MemberMarketplaceState } from '../../src/app/sync-marketplace.ts';
import { ConciergeError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { createMarketplaceClient } from '../../src/marketplace/client.ts';
import { signMarketplaceRequest } from '../../src/marketplace/signature.ts';
import { createMarketplaceStandIn, type MarketplaceStandIn } from '../../src/stand-ins/marketplace/server.ts';

/**
 * The marketplace adapter (src/marketplace/client.ts) against the marketplace
 * stand-in over real HTTP: what it signs and sends, and how each kind of
 * answer becomes a result or an error with the right retry bit. The
 * stand-in's own checks (signature, timestamp, versions) are tested here too,
 * with requests the client would never make.
 */

const MEMBER = '340000000000000001';
const log = createLogger('silent');
let market: MarketplaceStandIn;
beforeAll(async () => {
  market = await createMarketplaceStandIn({ key: 'the-right-key' });
});
afterAll(() => market.close());
beforeEach(() => market.reset());

const state = (version: number, tier: string | null = 'elite'): MemberMarketplaceState => ({
  tier,
  scripts: [{ key: 'starter-scripts', serial: 'CNC-7K2Q-M9XD-4TRB-PW3H', active: tier !== null }],
  version,
});
const client = (o: { key?: string; clockOffsetMs?: number; timeoutMs?: number; url?: string } = {}) =>
  createMarketplaceClient({ url: o.url ?? market.url, key: o.key ?? market.key, clock: () => Date.now() + (o.clockOffsetMs ?? 0), log, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
const signal = () => new AbortController().signal;

/** The error a call throws (fails the test when it succeeds). */
async function failureOf(p: Promise<unknown>): Promise<ConciergeError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ConciergeError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('marketplace client → stand-in', () => {
  it('PUTs the state signed over the exact bytes sent; the receiver keeps the highest version', async () => {
    expect(await client().putMember(MEMBER, state(5), signal())).toBe('accepted');
    const [call] = market.calls;
    expect(call).toMatchObject({ method: 'PUT', path: `/v1/members/${MEMBER}`, signature: 'ok', status: 200, applied: true });
    expect(call?.headers['content-type']).toBe('application/json');
    const timestamp = String(call?.headers['x-concierge-timestamp']);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(5);
    expect(call?.headers['x-concierge-signature']).toBe(signMarketplaceRequest('the-right-key', timestamp, Buffer.from(call?.rawBody ?? '')));

    // A late or retried older request is acknowledged and changes nothing.
    expect(await client().putMember(MEMBER, state(4, null), signal())).toBe('accepted');
    expect(market.calls[1]?.applied).toBe(false);
    expect(market.member(MEMBER)).toEqual(state(5));
    await client().putMember(MEMBER, state(6, null), signal());
    expect(market.member(MEMBER)).toEqual(state(6, null));
  });

  it('PUTs the publisher profile to /v1/publisher', async () => {
    const profile = { bio: 'Our scripts', url: 'https://scripts.example.com', icon_url: 'https://cdn.example.com/icon.png', version: 3 };
    expect(await client().putPublisher(profile, signal())).toBe('accepted');
    expect(market.publisher()).toEqual(profile);
    expect(market.calls[0]).toMatchObject({ path: '/v1/publisher', signature: 'ok' });
  });

  it('a wrong key is refused 401 bad_signature: permanent, the answer in the message', async () => {
    const err = await failureOf(client({ key: 'a-wrong-key' }).putMember(MEMBER, state(1), signal()));
    expect(err).toMatchObject({ code: 'marketplace_rejected', retry: false, retryAfterMs: null });
    expect(err.message).toBe(`Marketplace PUT /v1/members/${MEMBER} → 401: {"error":"bad_signature"}`);
    expect(market.member(MEMBER)).toBeUndefined();
  });

  it('a clock more than five minutes off is refused 401 stale_timestamp; within five minutes is accepted', async () => {
    const err = await failureOf(client({ clockOffsetMs: -6 * 60_000 }).putMember(MEMBER, state(1), signal()));
    expect(err).toMatchObject({ code: 'marketplace_rejected', retry: false });
    expect(err.message).toContain('stale_timestamp');
    expect(await client({ clockOffsetMs: 4 * 60_000 }).putMember(MEMBER, state(2), signal())).toBe('accepted');
  });

  it('the stand-in refuses a body changed after signing, a missing signature and a malformed one', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signed = Buffer.from(JSON.stringify(state(1)));
    const forged = JSON.stringify(state(99, 'warlord'));
    const put = (headers: Record<string, string>, body: string) => fetch(`${market.url}/v1/members/${MEMBER}`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body });
    const good = { 'x-concierge-timestamp': timestamp, 'x-concierge-signature': signMarketplaceRequest(market.key, timestamp, signed) };

    expect([(await put(good, forged)).status, market.calls.at(-1)?.signature]).toEqual([401, 'bad_signature']);
    expect([(await put({}, forged)).status, market.calls.at(-1)?.signature]).toEqual([401, 'missing_signature']);
    expect([(await put({ ...good, 'x-concierge-signature': 'sha256=abc' }, forged)).status, market.calls.at(-1)?.signature]).toEqual([401, 'bad_signature']);
    expect([(await put({ ...good, 'x-concierge-timestamp': String(Number(timestamp) + 1) }, signed.toString())).status, market.calls.at(-1)?.signature]).toEqual([401, 'bad_signature']);
    expect(market.member(MEMBER)).toBeUndefined();
    expect((await put(good, signed.toString())).status).toBe(200);
    expect(market.member(MEMBER)).toEqual(state(1));
  });

  it('5xx and 408 are retried; a 409 means the marketplace holds a newer version (success)', async () => {
    for (const status of [500, 502, 503, 408]) {
      market.fault({ status, times: 1 });
      expect(await failureOf(client().putMember(MEMBER, state(1), signal())), String(status)).toMatchObject({ retry: true, retryAfterMs: null });
    }
    market.fault({ status: 409, body: { error: 'stale_version' }, times: 1 });
    expect(await client().putMember(MEMBER, state(1), signal())).toBe('superseded');
  });

  it('429 waits out Retry-After (seconds, capped at an hour) without using an attempt; without the header it backs off like a 5xx', async () => {
    market.fault({ status: 429, retryAfter: 7, times: 1 });
    expect(await failureOf(client().putMember(MEMBER, state(1), signal()))).toMatchObject({ code: 'marketplace_rate_limited', retry: true, retryAfterMs: 7_000 });
    market.fault({ status: 429, retryAfter: 86_400, times: 1 });
    expect((await failureOf(client().putMember(MEMBER, state(1), signal()))).retryAfterMs).toBe(3_600_000);
    market.fault({ status: 429, times: 1 });
    expect(await failureOf(client().putMember(MEMBER, state(1), signal()))).toMatchObject({ retry: true, retryAfterMs: null });
  });

  it('other 4xx are permanent and carry a bounded body excerpt, with the key blanked if echoed', async () => {
    market.fault({ status: 422, body: { error: 'invalid', echo: `key=${market.key}`, filler: 'x'.repeat(5_000) }, times: 1 });
    const err = await failureOf(client().putMember(MEMBER, state(1), signal()));
    expect(err).toMatchObject({ code: 'marketplace_rejected', retry: false, context: { method: 'PUT', path: `/v1/members/${MEMBER}`, status: 422 } });
    expect(err.message).toContain('→ 422: {"error":"invalid","echo":"key=[redacted]"');
    expect(err.message).not.toContain(market.key);
    expect(err.message.length).toBeLessThan(500);
  });

  it('a redirect is not followed (the signed body would go elsewhere) and is permanent', async () => {
    market.fault({ status: 307, times: 1 });
    const err = await failureOf(client().putMember(MEMBER, state(1), signal()));
    expect(err).toMatchObject({ code: 'marketplace_redirected', retry: false });
    expect(err.message).toContain('MARKETPLACE_API_URL');
  });

  it('no answer is retried: a refused connection, a dropped one, a timeout', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    expect(await failureOf(client({ url: `http://127.0.0.1:${closedPort}` }).putMember(MEMBER, state(1), signal()))).toMatchObject({ code: 'marketplace_unreachable', retry: true });
    market.fault({ drop: true, times: 1 });
    expect(await failureOf(client().putMember(MEMBER, state(1), signal()))).toMatchObject({ code: 'marketplace_unreachable', retry: true });
    market.fault({ delayMs: 1_000, times: 1 });
    expect(await failureOf(client({ timeoutMs: 100 }).putMember(MEMBER, state(1), signal()))).toMatchObject({ code: 'marketplace_timeout', retry: true });
  });
});

describe('README "Marketplace contract"', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** The README's verification snippet, as an implementer would paste it. */
  async function readmeVerifier(): Promise<(headers: Record<string, unknown>, rawBody: Buffer, key: string, nowSeconds?: number) => boolean> {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Marketplace contract'));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    if (code === undefined) throw new Error('no js block in README "Marketplace contract"');
    const dir = mkdtempSync(join(tmpdir(), 'concierge-readme-'));
    dirs.push(dir);
    const file = join(dir, 'verify.mjs');
    writeFileSync(file, code);
    const mod = (await import(pathToFileURL(file).href)) as { verifyConciergeRequest: Awaited<ReturnType<typeof readmeVerifier>> };
    return mod.verifyConciergeRequest;
  }

  it('its verification snippet accepts what the client sends and the example request, and refuses a changed body or a stale time', async () => {
    const verify = await readmeVerifier();
    await client().putMember(MEMBER, state(1), signal());
    const call = market.calls[0];
    const raw = Buffer.from(call?.rawBody ?? '');
    expect(verify(call?.headers ?? {}, raw, market.key)).toBe(true);
    expect(verify(call?.headers ?? {}, Buffer.concat([raw, Buffer.from(' ')]), market.key)).toBe(false);
    expect(verify(call?.headers ?? {}, raw, 'another-key')).toBe(false);
    expect(verify(call?.headers ?? {}, raw, market.key, Math.floor(Date.now() / 1000) + 301)).toBe(false);

    const readme = readFileSync('README.md', 'utf8');
    const example = /PUT \{MARKETPLACE_API_URL\}\/v1\/members\/\{discordUserId\}\n[\s\S]*?X-Concierge-Timestamp: (\d+)\nX-Concierge-Signature: (\S+)\n\n(.*)\n```/.exec(readme);
    const [, timestamp = '', signature = '', body = ''] = example ?? [];
    expect(JSON.parse(body)).toMatchObject({ tier: 'legendary', version: expect.any(Number) });
    expect(verify({ 'x-concierge-timestamp': timestamp, 'x-concierge-signature': signature }, Buffer.from(body), 'example-key', Number(timestamp))).toBe(true);
  });
});
