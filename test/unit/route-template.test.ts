import { describe, expect, it } from 'vitest';
import { templateRoute } from '../../src/metrics/http-call.ts';

/** A route label must name the endpoint, never a member, role, subscription or token: one series per endpoint. */
describe('templateRoute', () => {
  const discord = [
    ['/api/v10/guilds/1300000000000000001/members/300000000000000001/roles/100000000000000001', '/guilds/:id/members/:id/roles/:id'],
    ['/api/v10/channels/1200000000000000001/messages?limit=5', '/channels/:id/messages'],
    ['/api/v10/interactions/1400000000000000001/aW50ZXJhY3Rpb246MTIzNDU2Nzg5OnRva2Vu/callback', '/interactions/:id/:id/callback'],
    ['/api/v10/webhooks/1500000000000000001/aW50ZXJhY3Rpb24/messages/@original', '/webhooks/:id/:id/messages/@original'],
    ['/api/v10/users/@me', '/users/@me'],
    ['/v10/gateway/bot', '/gateway/bot'],
  ] as const;
  it.each(discord)('Discord %s → %s', (path, route) => expect(templateRoute(path, { afterVersion: true })).toBe(route));

  const paypal = [
    ['/v1/billing/subscriptions/I-BW452GLLEP1G/cancel', '/v1/billing/subscriptions/:id/cancel'],
    ['/v1/billing/plans/P-ELITE0MONTHLY00000000001', '/v1/billing/plans/:id'],
    ['/v1/oauth2/token', '/v1/oauth2/token'],
    ['/v1/customer/disputes/PP-D-12345', '/v1/customer/disputes/:id'],
    ['/v1/notifications/webhooks-events?page_size=100&start_time=2026-01-01T00:00:00Z', '/v1/notifications/webhooks-events'],
  ] as const;
  it.each(paypal)('PayPal %s → %s', (path, route) => expect(templateRoute(path)).toBe(route));

  it('turns an all-lowercase segment longer than any API word into :id', () => {
    expect(templateRoute('/v1/things/abcdefghijklmnopqrstuvwxyzabcdefghij')).toBe('/v1/things/:id');
  });
});
