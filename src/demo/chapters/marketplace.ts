import { createHmac } from 'node:crypto';
import type { MarketplaceCall } from '../../stand-ins/marketplace/server.ts';
import { check, checkText, eventually } from '../expect.ts';
import { MEMBERS, STAFF_ID, type Scene } from '../scene.ts';

/**
 * Chapter 4, the marketplace that sells the scripts: every change of a
 * member's tier or serials reached it as a signed PUT of the member's whole
 * state, with a version that only grows; a forged or replayed request is
 * refused by the receiver; the publisher profile set with /publisher
 * reaches it too. The receiver is the marketplace stand-in, which checks
 * signatures the way README "Marketplace contract" tells implementers to.
 */

interface MemberBody {
  tier: string | null;
  scripts: { key: string; serial: string; active: boolean }[];
  version: number;
}

/** "v7 elite [starter-scripts ✓]": one PUT as a timeline entry. */
function describePut(c: MarketplaceCall): string {
  const b = c.body as MemberBody;
  return `v${b.version} ${b.tier ?? '—'} [${b.scripts.map((x) => `${x.key} ${x.active ? 'active' : 'inactive'}`).join(', ')}]`;
}

export async function playMarketplaceChapter(s: Scene): Promise<void> {
  const { stage, act, step } = s;
  const market = stage.market;
  const putsFor = (memberId: string) => market.callsTo(`/v1/members/${memberId}`);

  s.chapter('Marketplace — signed updates to the store that sells the scripts', `MARKETPLACE_API_URL is the marketplace stand-in at ${market.url}`);

  await step("hana's three changes reached the marketplace: signed PUTs, versions only growing", async () => {
    // The sync job runs seconds after each change: wait for the current state to have arrived.
    const held = await eventually(() => market.member(MEMBERS.hana), (m) => m?.tier === 'elite' && m.scripts.every((x) => x.active), "hana's current state (elite, serial active) at the marketplace");
    const puts = putsFor(MEMBERS.hana).filter((c) => c.status === 200);
    check(puts.length >= 3 && puts.every((c) => c.signature === 'ok'), 'at least three accepted PUTs, each correctly signed', puts.map((c) => `${c.status} ${c.signature}`).join(', '));
    const versions = puts.map((c) => (c.body as MemberBody).version);
    check(versions.every((v, i) => i === 0 || v >= (versions[i - 1] ?? 0)), 'versions that never go back', versions.join(', '));
    const tiers = puts.map((c) => (c.body as MemberBody).tier);
    check(tiers.includes('elite') && tiers.includes(null) && tiers.at(-1) === 'elite', 'elite (grant), then none (lapse), then elite (subscription)', tiers.join(' → '));
    const all = market.calls.filter((c) => c.method === 'PUT');
    check(all.every((c) => c.signature === 'ok' && c.status === 200), 'every PUT Concierge sent signed and accepted', all.filter((c) => c.signature !== 'ok' || c.status !== 200).map((c) => `${c.path} ${c.status} ${c.signature}`).join('; '));
    const members = new Set(all.map((c) => c.path)).size;
    return {
      did: '(grant, lapse and subscription in the serials chapter)',
      concierge: `PUT /v1/members/${MEMBERS.hana}: ${puts.map(describePut).join(' → ')}\nheld now: v${held?.version ?? '?'}; in all ${all.length} signed PUTs for ${members} members since the story began, every signature valid`,
      discord: '',
    };
  });

  await step('a forged update and a replayed old one are refused by the marketplace', async () => {
    const before = JSON.stringify(market.member(MEMBERS.hana));
    const body = JSON.stringify({ tier: 'warlord', scripts: [], version: 9_999_999_999 });
    const timestamp = String(Math.floor(stage.now() / 1000));
    const forged = await put(`/v1/members/${MEMBERS.hana}`, body, { 'x-concierge-timestamp': timestamp, 'x-concierge-signature': `v1=${createHmac('sha256', 'a-guessed-key').update(`${timestamp}.${body}`).digest('hex')}` });
    checkText(forged, '401 {"error":"bad_signature"}', 'the answer to a forged request');
    // A genuine request captured on day 0 (alice's first update), sent again now: its signed timestamp is weeks old.
    const old = putsFor(MEMBERS.alice)[0];
    check(old !== undefined, "a recorded PUT for alice");
    const headers = { 'x-concierge-timestamp': String(old.headers['x-concierge-timestamp']), 'x-concierge-signature': String(old.headers['x-concierge-signature']) };
    const replayed = await put(old.path, old.rawBody, headers);
    checkText(replayed, '401 {"error":"stale_timestamp"}', 'the answer to a replayed request');
    check(JSON.stringify(market.member(MEMBERS.hana)) === before, "hana's state at the marketplace unchanged");
    return { did: "someone PUTs tier warlord for hana signed with a guessed key; someone replays alice's day-0 request", concierge: `marketplace: ${forged}; ${replayed}; nothing changed`, discord: '' };
  });

  await step('sam sets the publisher bio: it reaches the marketplace', async () => {
    const bio = 'Scripts for the Concierge Demo community, updated every week.';
    const { reply } = await act.staff('publisher', 'set-bio', STAFF_ID, { text: bio });
    const held = await eventually(() => market.publisher(), (p) => p?.bio === bio, 'the new bio at the marketplace');
    const last = market.callsTo('/v1/publisher').at(-1);
    check(last?.signature === 'ok' && last.status === 200, 'a signed, accepted PUT /v1/publisher', `${last?.status} ${last?.signature}`);
    return { did: `/publisher set-bio text:"${bio}"`, concierge: `"${s.firstLine(reply)}"; PUT /v1/publisher signed, v${held?.version ?? '?'}: bio "${held?.bio ?? ''}"`, discord: '' };
  });

  async function put(path: string, body: string, headers: Record<string, string>): Promise<string> {
    const res = await fetch(`${market.url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body });
    return `${res.status} ${await res.text()}`;
  }
}
