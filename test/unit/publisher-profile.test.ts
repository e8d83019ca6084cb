import { describe, expect, it } from 'vitest';
import { checkBio, checkHttpsUrl, checkIcon, ICON_MAX_BYTES, publisherEmbed } from '../../src/core/publisher-profile.ts';

describe('publisher profile checks', () => {
  it.each([
    ['  Scripts for everyone.  ', { ok: true, value: 'Scripts for everyone.' }],
    ['x'.repeat(1000), { ok: true, value: 'x'.repeat(1000) }],
    ['x'.repeat(1001), { ok: false, message: 'The bio is 1001 characters; the limit is 1000.' }],
    ['   ', { ok: false, message: expect.stringMatching(/empty/) }],
  ])('bio %#', (text, expected) => {
    expect(checkBio(text)).toEqual(expected);
  });

  it.each([
    ['https://example.com/shop', { ok: true, value: 'https://example.com/shop' }],
    [' https://EXAMPLE.com ', { ok: true, value: 'https://example.com/' }],
    ['http://example.com', { ok: false, message: 'The URL must use https:// (got http).' }],
    ['javascript:alert(1)', { ok: false, message: 'The URL must use https:// (got javascript).' }],
    ['example.com', { ok: false, message: expect.stringMatching(/is not a URL; the URL must start with https:\/\//) }],
    ['https://user:pw@example.com', { ok: false, message: 'The URL must not contain a user name or password.' }],
    [`https://example.com/${'a'.repeat(2000)}`, { ok: false, message: 'The URL is longer than 2000 characters.' }],
  ])('url %s', (text, expected) => {
    expect(checkHttpsUrl(text, 'URL')).toEqual(expected);
  });

  it.each([
    [{ contentType: 'image/png', bytes: 1000 }, true],
    [{ contentType: 'Image/JPEG; charset=binary', bytes: ICON_MAX_BYTES }, true],
    [{ contentType: 'image/webp', bytes: 10 }, true],
    [{ contentType: 'image/gif', bytes: 10 }, true],
    [{ contentType: 'image/png', bytes: ICON_MAX_BYTES + 1 }, false],
    [{ contentType: 'image/svg+xml', bytes: 10 }, false],
    [{ contentType: 'text/html', bytes: 10 }, false],
    [{ contentType: null, bytes: 10 }, false],
  ])('icon %j → %s', (facts, ok) => {
    expect(checkIcon(facts).ok).toBe(ok);
  });

  it('names what is wrong with an icon', () => {
    expect(checkIcon({ contentType: 'text/html', bytes: 10 })).toEqual({ ok: false, message: 'The icon must be a PNG, JPEG, GIF or WebP image; it is `text/html`.' });
    expect(checkIcon({ contentType: 'image/png', bytes: 3 * 1024 * 1024 })).toEqual({ ok: false, message: 'The icon is larger than 2 MiB, the limit; use a smaller image.' });
  });
});

describe('publisherEmbed', () => {
  it('says how to start when nothing is set', () => {
    expect(publisherEmbed(undefined).description).toMatch(/set-bio/);
  });
  it('shows bio, URL, icon, version and who changed it', () => {
    const e = publisherEmbed({ bio: 'Hello', url: 'https://a.example/', iconUrl: null, version: 3, updatedBy: '123456789012345678', updatedAt: Date.parse('2024-01-01T00:00:00Z') });
    expect(e.description).toBe('Hello');
    expect(e.fields).toEqual([
      { name: 'URL', value: 'https://a.example/', inline: true },
      { name: 'Icon', value: 'not set', inline: true },
      { name: 'Version', value: '3, changed by <@123456789012345678> on <t:1704067200:D>' },
    ]);
  });
});
