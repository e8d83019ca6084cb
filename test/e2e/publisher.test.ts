import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_CERT_PEM, SERVER_KEY_PEM } from '../../src/stand-ins/paypal/sign-webhook.ts';
import { auditEntries, publisherProfile } from '../../src/store/schema.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { runStaffCommand, staffGuild } from '../helpers/staff-actions.ts';
import { STAFF_ROLE_ID } from '../helpers/tiers.ts';

/**
 * /publisher end to end: staff set the profile through the REAL discord.js
 * client against the Discord stand-in; the icon link is fetched from a
 * loopback HTTPS image host (the test CA is trusted) to check its type and
 * size. Every change bumps the profile's version and writes one audit entry.
 */

const MiB = 1024 * 1024;
let h: Harness;
let images: Server;
let imageBase: string;
const STAFF = '360000000000009001';

/** path → [status, content type, size in bytes]; /redirect-http answers 302 to plain http. */
const SERVED: Record<string, [number, string, number]> = {
  '/icon.png': [200, 'image/png', 4096],
  '/big.png': [200, 'image/png', 3 * MiB],
  '/page': [200, 'text/html; charset=utf-8', 100],
  '/vector.svg': [200, 'image/svg+xml', 100],
};

beforeAll(async () => {
  h = await startHarness({ discord: staffGuild() });
  h.discord.addMember(STAFF, { username: 'staff', roles: [STAFF_ROLE_ID] });
  images = createServer({ cert: SERVER_CERT_PEM, key: SERVER_KEY_PEM }, (req, res) => {
    if (req.url === '/redirect-http') return void res.writeHead(302, { location: 'http://127.0.0.1:9/icon.png' }).end();
    const served = SERVED[req.url ?? ''];
    if (served === undefined) return void res.writeHead(404).end('not found');
    // No Content-Length: the probe must count what it reads, not trust a header.
    res.writeHead(served[0], { 'content-type': served[1] });
    res.end(Buffer.alloc(served[2], 1));
  });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  imageBase = `https://127.0.0.1:${(images.address() as AddressInfo).port}`;
});
afterAll(async () => {
  images.closeAllConnections();
  await new Promise((r) => images.close(r));
  await h.close();
});

const db = () => h.service.store.db;
const profile = () => db().select().from(publisherProfile).where(eq(publisherProfile.id, 1)).get();
const publisherAudits = () => db().select().from(auditEntries).where(eq(auditEntries.kind, 'staff.publisher')).all();
const publisher = (sub: string, options: Record<string, string> = {}) => runStaffCommand(h, 'publisher', sub, STAFF, options);

describe('/publisher', () => {
  it('info before anything is set says how to start', async () => {
    expect((await publisher('info')).embeds?.[0]?.description).toMatch(/Nothing set yet/);
  });

  it('set-bio, set-url and set-icon store the profile, bump its version once each and audit who changed what', async () => {
    const bio = await publisher('set-bio', { text: '  Scripts for serious players.  ' });
    expect(bio.content).toBe('Saved (profile version 1).');
    expect(bio.embeds?.[0]?.description).toBe('Scripts for serious players.');
    expect((await publisher('set-url', { url: 'https://shop.example.com/concierge' })).content).toBe('Saved (profile version 2).');
    expect((await publisher('set-icon', { url: `${imageBase}/icon.png` })).content).toBe('Saved (profile version 3).');
    expect(profile()).toMatchObject({ bio: 'Scripts for serious players.', url: 'https://shop.example.com/concierge', iconUrl: `${imageBase}/icon.png`, version: 3, updatedBy: STAFF });

    const info = (await publisher('info')).embeds?.[0];
    expect(info?.fields?.map((f) => [f.name, f.value])).toEqual([
      ['URL', 'https://shop.example.com/concierge'],
      ['Icon', `${imageBase}/icon.png`],
      ['Version', expect.stringMatching(new RegExp(`^3, changed by <@${STAFF}> on <t:\\d+:D>$`))],
    ]);
    expect(publisherAudits().map((a) => a.message)).toEqual([
      `<@${STAFF}> set the publisher bio (28 characters) (profile version 1) (no reason given)`,
      `<@${STAFF}> set the publisher URL to https://shop.example.com/concierge (profile version 2) (no reason given)`,
      `<@${STAFF}> set the publisher icon to ${imageBase}/icon.png (image/png, 4096 bytes) (profile version 3) (no reason given)`,
    ]);
  });

  it('an uploaded image is checked by the type and size Discord states', async () => {
    const version = profile()?.version ?? 0;
    const ok = await runStaffCommand(h, 'publisher', 'set-icon', STAFF, { image: '900000000000000001' }, { '900000000000000001': { filename: 'logo.webp', contentType: 'image/webp', size: 50_000 } });
    expect(ok.content).toBe(`Saved (profile version ${version + 1}).`);
    expect(profile()?.iconUrl).toMatch(/^https:\/\/cdn\.discordapp\.com\/ephemeral-attachments\/\d+\/900000000000000001\/logo\.webp\?/);
    const big = await runStaffCommand(h, 'publisher', 'set-icon', STAFF, { image: '900000000000000002' }, { '900000000000000002': { filename: 'huge.png', contentType: 'image/png', size: 5 * MiB } });
    expect(big.content).toBe('The icon is larger than 2 MiB, the limit; use a smaller image.');
    expect(profile()?.version).toBe(version + 1);
  });

  it('refuses what the marketplace should not show, changing nothing', async () => {
    const before = profile();
    const audits = publisherAudits().length;
    const refusals: [string, Record<string, string>, string | RegExp][] = [
      ['set-bio', { text: 'x'.repeat(1001) }, 'The bio is 1001 characters; the limit is 1000.'],
      ['set-url', { url: 'http://shop.example.com' }, 'The URL must use https:// (got http).'],
      ['set-icon', { url: `${imageBase}/big.png` }, 'The icon is larger than 2 MiB, the limit; use a smaller image.'],
      ['set-icon', { url: `${imageBase}/page` }, 'The icon must be a PNG, JPEG, GIF or WebP image; it is `text/html`.'],
      ['set-icon', { url: `${imageBase}/vector.svg` }, 'The icon must be a PNG, JPEG, GIF or WebP image; it is `image/svg+xml`.'],
      ['set-icon', { url: `${imageBase}/missing.png` }, 'The icon link answered HTTP 404; use a direct link to the image.'],
      ['set-icon', { url: `${imageBase}/redirect-http` }, /^Could not fetch the icon|redirects to an address without https/],
      ['set-icon', {}, 'Give the icon either as a link (`url`) or as an upload (`image`), one of the two.'],
    ];
    for (const [sub, options, message] of refusals) {
      const reply = await publisher(sub, options);
      if (typeof message === 'string') expect(reply.content, `${sub} ${JSON.stringify(options).slice(0, 80)}`).toBe(message);
      else expect(reply.content).toMatch(message);
    }
    expect(profile()).toEqual(before);
    expect(publisherAudits()).toHaveLength(audits);
  });
});
