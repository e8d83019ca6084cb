import { check, checkText, eventually, staysSame } from '../expect.ts';
import { DAY, HOUR, MEMBERS, STAFF_ID, type Scene } from '../scene.ts';

/**
 * Chapter 2, staff at work in Discord: /admin is refused to a member who is
 * not staff; sam (Staff role) grants, extends, revokes with the PayPal cancel,
 * looks a member up, exports the member list and resyncs everyone. Timed
 * grants end on their own (the clock jumps), with one warning three days
 * before, and never take away a tier the member pays for.
 */

/** `<t:1234567890:f>` in a reply → the time in ms. */
function firstTimestamp(text: string): number {
  const t = /<t:(\d+):\w>/.exec(text)?.[1];
  if (t === undefined) throw new Error(`no Discord timestamp in ${JSON.stringify(text.slice(0, 200))}`);
  return Number(t) * 1000;
}

export async function playStaffChapter(s: Scene): Promise<void> {
  const { stage, act, step, fastForward, roles, rolesText, audited, dmed, dmTitles, footprint, readable, firstLine } = s;
  const admin = (sub: string, options: Record<string, string> = {}, userId = STAFF_ID) => act.staff('admin', sub, userId, options);
  const warnings = () => dmTitles('gina').filter((t) => t === 'Your membership ends soon').length;

  s.chapter('Staff — /admin in Discord', 'sam moderates the server (the Staff role named in the tiers file); everyone else is refused');
  const staffRole = stage.catalog.file.staff_role_ids[0];
  if (staffRole === undefined) throw new Error('the demo tiers file names no staff role (staff_role_ids)');
  stage.discord.addMember(STAFF_ID, { username: 'sam', roles: [staffRole] });
  act.join(MEMBERS.gina, 'gina');

  await step('dave, who is not staff, tries /admin grant: refused, nothing changes', async () => {
    const { reply } = await admin('grant', { member: MEMBERS.dave, tier: 'warlord', duration: 'lifetime' }, MEMBERS.dave);
    checkText(reply.text, 'This command is for staff only', 'the reply');
    checkText(reply.text, 'Nothing was changed', 'the reply');
    await staysSame(() => footprint('dave'), 'a refused command to change nothing for dave');
    return { did: 'dave runs /admin grant member:@dave tier:warlord (a server may show /admin to anyone)', concierge: `"${readable(reply.text)}"`, discord: rolesText('dave') };
  });

  let ginaEnds = 0;
  await step('sam grants gina Legendary for 7 days: the role at once', async () => {
    const { reply } = await admin('grant', { member: MEMBERS.gina, tier: 'legendary', duration: '7d' });
    check(/^Granted \*\*Legendary\*\* to <@\d+> for 7 days, until <t:\d+:f>/.test(reply.text), 'a "Granted Legendary … for 7 days, until …" reply', reply.text);
    ginaEnds = firstTimestamp(reply.text);
    check(Math.abs(ginaEnds - (stage.now() + 7 * DAY)) < 60_000, 'the grant to end 7 days from now', new Date(ginaEnds).toISOString());
    const shown = await roles('gina', ['Legendary']);
    return { did: '/admin grant member:@gina tier:legendary duration:7d', concierge: `"${firstLine(reply)}"; ${await audited('gina', 'Staff grant')}`, discord: shown };
  });

  await step('sam lifts carol, who pays for Titan, to Warlord for 2 days', async () => {
    const { reply } = await admin('grant', { member: MEMBERS.carol, tier: 'warlord', duration: '2d' });
    checkText(reply.text, 'for 2 days', 'the reply');
    return { did: '/admin grant member:@carol tier:warlord duration:2d', concierge: `"${firstLine(reply)}"`, discord: await roles('carol', ['Warlord']) };
  });

  await step('sam gives bob 7 goodwill days after his paid period', async () => {
    const { reply } = await admin('extend', { member: MEMBERS.bob, duration: '7d' });
    check(/^Gave <@\d+> 7 days of goodwill Elite after PayPal subscription I-/.test(reply.text), 'a "Gave @bob 7 days of goodwill Elite after PayPal subscription …" reply', reply.text);
    await staysSame(() => act.tierRoles(MEMBERS.bob), 'bob to keep Elite');
    return { did: '/admin extend member:@bob duration:7d', concierge: `"${readable(reply.text.split('\n')[0] ?? '')}" (a grant starting where his paid period ends)`, discord: rolesText('bob') };
  });

  await fastForward(ginaEnds - 3 * DAY + HOUR - stage.now(), "four days later, three days before gina's grant ends");

  await step("gina is warned once that her access ends in three days; carol's 2 days are over", async () => {
    await eventually(warnings, (k) => k === 1, 'one "Your membership ends soon" DM to gina');
    const carol = await roles('carol', ['Titan']);
    await staysSame(warnings, 'no second warning');
    return { did: '(time passes)', concierge: 'expiry-warning schedule: DM to gina: "Your membership ends soon"; carol\'s grant ends and her paid Titan stays', discord: `${await roles('gina', ['Legendary'])}; ${carol}` };
  });

  await fastForward(ginaEnds + HOUR - stage.now(), "past the end of gina's grant");

  await step("gina's grant ends on its own: the role goes; still one warning", async () => {
    const shown = await roles('gina', []);
    // The "ended" DM is its own job, queued beside the role removal: wait for it rather than read the list too early.
    await dmed('gina', 'Your membership has ended');
    check(warnings() === 1, 'exactly one warning DM', String(warnings()));
    return { did: '(time passes)', concierge: `grant expiry job at the end time; gina's DMs: ${dmTitles('gina').map((t) => `"${t}"`).join(', ')}`, discord: shown };
  });

  await step('sam revokes frank and confirms the PayPal cancel: frank keeps the month he paid for', async () => {
    const sub = act.billedSubscription(MEMBERS.frank);
    const { reply } = await admin('revoke', { member: MEMBERS.frank, reason: 'asked to leave' });
    const button = reply.buttons.find((b) => b.label === 'Cancel at PayPal');
    check(button?.customId != null, 'a "Cancel at PayPal" button', JSON.stringify(reply.buttons));
    const after = await act.click(STAFF_ID, button.customId);
    checkText(after.text, `Cancelled \`${sub.id}\` at PayPal.`, 'the message after Confirm');
    await eventually(() => stage.paypal.get(sub.id)?.status, (st) => st === 'CANCELLED', "frank's subscription to be CANCELLED at PayPal");
    const sent = stage.paypal.requests.find((r) => r.method === 'POST' && r.path === `/v1/billing/subscriptions/${sub.id}/cancel`)?.body as { reason?: string } | undefined;
    check(sent?.reason === 'Revoked by staff: asked to leave', 'the reason sent to PayPal', JSON.stringify(sent));
    await staysSame(() => act.tierRoles(MEMBERS.frank), 'frank to keep Legendary (policy period_end)');
    return {
      did: `/admin revoke member:@frank reason:"asked to leave" → buttons ${reply.buttons.map((b) => `[${b.label}]`).join(' ')} → Cancel at PayPal`,
      concierge: `"${readable(after.text).replace('\n', ' ')}"; PayPal got the cancel with reason "${sent.reason}"; ${await audited('frank', 'Staff revoked access')}`,
      discord: rolesText('frank'),
    };
  });

  await step('sam looks frank up', async () => {
    const serials = (await act.scripts(MEMBERS.frank)).text.match(/CNC(?:-[A-Z0-9]{4}){4}/g) ?? [];
    const { reply } = await admin('lookup', { member: MEMBERS.frank });
    for (const name of ['Entitlement', 'Subscriptions (1)', 'Serials (2)', 'Last audit entries']) checkText(reply.text, `${name}: `, 'the lookup embed');
    checkText(reply.text, /CNC-\*{4}-\*{4}-\*{4}-[A-Z0-9]{4}/, 'the lookup embed (masked serials)');
    check(serials.length === 2 && serials.every((x) => !reply.text.includes(x)), 'no full serial in the embed (frank has 2)', serials.join(', '));
    const field = (name: string) => readable(reply.text.split('\n').find((l) => l.startsWith(`${name}: `)) ?? '');
    return { did: '/admin lookup member:@frank', concierge: [field('Entitlement'), field('Subscriptions (1)'), field('Serials (2)').split('\n')[0] ?? ''].join('\n'), discord: '' };
  });

  await step('sam exports the member list as CSV', async () => {
    const { reply, handle } = await admin('export');
    const count = Number(/^Member list: (\d+) member\(s\)\.$/.exec(reply.text)?.[1] ?? NaN);
    // alice … frank and gina so far (dave's refused command made no member of anyone).
    check(count === 7, 'a "Member list: 7 member(s)." reply', reply.text);
    const file = handle.original()?.attachments[0];
    check(file !== undefined && /^members-\d{4}-\d{2}-\d{2}\.csv$/.test(file.filename), 'a members-<date>.csv attachment', JSON.stringify(file));
    const lines = (act.attachmentText(file.url) ?? '').trim().split(/\r?\n/);
    check(lines[0] === 'discord_id,tier,source,state,paid_through,paypal_subscription_id,last_payment', 'the CSV header', lines[0]);
    check(lines.length === count + 1, `${count} rows after the header`, String(lines.length - 1));
    const frank = lines.find((l) => l.startsWith(MEMBERS.frank)) ?? '';
    checkText(frank, 'legendary,subscription,cancelled', "frank's row");
    return { did: '/admin export', concierge: `"${reply.text}" + ${file.filename}: header and ${count} rows; frank: ${frank.split(',').slice(1, 4).join(', ')}`, discord: '' };
  });

  await step("sam resyncs everyone's roles, with a progress message", async () => {
    const { handle } = await admin('resync');
    const done = await eventually(() => handle.original()?.content ?? '', (c) => c.startsWith('Resync finished'), 'a "Resync finished …" message', undefined, 20_000);
    check(/^Resync finished in \d+ s: (\d+) \/ \1 members done · 0 × 429 from Discord · 0 error\(s\)\.$/.test(done), 'every member done, no error', done);
    const shown = handle.edits().flatMap((e) => (e.body?.content === undefined ? [] : [e.body.content]));
    return { did: '/admin resync (no member: everyone)', concierge: `the reply, edited as it goes: ${shown.map((t) => `"${t}"`).join(' → ')}`, discord: 'every role already in line: nothing to change' };
  });
}
