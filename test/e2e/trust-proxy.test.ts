import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.ts';

/**
 * TRUST_PROXY decides whose X-Forwarded-For names the client, seen through the
 * per-IP rate limit of the PayPal pages (30 a minute per client IP). Behind
 * nginx on loopback (the default) each forwarded address has its own budget;
 * with TRUST_PROXY=none the header is ignored and every request counts
 * against the peer (127.0.0.1), so a client cannot dodge the limit by forging it.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Statuses of `count` GET /paypal/cancel from loopback, the i-th forwarded for `forwardedFor(i)`. */
async function cancelPages(base: string, count: number, forwardedFor: (i: number) => string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${base}/paypal/cancel`, { headers: { 'x-forwarded-for': forwardedFor(i) } });
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return statuses;
}

describe('TRUST_PROXY', () => {
  it('by default a loopback proxy is trusted: each forwarded client has its own budget, one client is limited', async () => {
    h = await startHarness();
    const distinct = await cancelPages(h.service.url, 40, (i) => `203.0.113.${i + 1}`);
    expect(distinct.filter((s) => s === 429)).toEqual([]);
    const one = await cancelPages(h.service.url, 40, () => '198.51.100.7');
    expect(one).toContain(429);
  });

  it('TRUST_PROXY=none ignores X-Forwarded-For: forged addresses share the peer\'s budget', async () => {
    h = await startHarness({ env: { TRUST_PROXY: 'none' } });
    const forged = await cancelPages(h.service.url, 40, (i) => `203.0.113.${i + 1}`);
    expect(forged).toContain(429);
  });
});
