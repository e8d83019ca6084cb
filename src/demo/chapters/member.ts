import { check, checkText, eventually, staysSame } from '../expect.ts';
import type { Delivery } from '../actions.ts';
import { DAY, MEMBERS, type MemberName, type Scene, type StepOutcome } from '../scene.ts';

/**
 * Chapter 1, the member lifecycle: six members subscribe, upgrade,
 * downgrade, cancel, get refunded, leave and rejoin; PayPal renews, declines
 * and retries; a moderator edits a role by hand; forged, duplicated and
 * unconfirmed webhooks arrive. Each step is checked against what Discord shows.
 */

const LIFECYCLE: readonly MemberName[] = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];

export async function playMemberChapter(s: Scene): Promise<void> {
  const { stage, act, step, fastForward, roles, rolesText, same, accepted, auditTitles, audited, dmed, footprint, readable, firstLine } = s;

  /** /subscribe → the approve link → PayPal → the return page: the role comes at once, before any webhook. */
  async function subscribe(who: MemberName, tierKey: string): Promise<StepOutcome> {
    const tier = stage.catalog.byKey(tierKey)?.name ?? tierKey;
    const reply = await act.subscribe(MEMBERS[who], tierKey);
    check(reply.title === `Subscribe to ${tier}` && reply.approveUrl !== null, `a "Subscribe to ${tier}" reply with a PayPal link`, reply.text);
    const page = await act.approve(reply.approveUrl);
    check(page.status === 200, 'the return page to answer 200', `${page.status}`);
    checkText(page.text, `You are now ${tier}`, 'the return page');
    return { did: `/subscribe tier:${tierKey}, pays on PayPal, comes back`, concierge: `reply "${reply.title}"; return page "${page.heading}"`, discord: await roles(who, [tier]) };
  }

  s.chapter('Members — member → Concierge → Discord', 'six members through a month and a bit: paying, changing tier, cancelling, refunds, failed renewals');
  for (const who of LIFECYCLE) act.join(MEMBERS[who], who);
  s.report.note(`day 0: ${LIFECYCLE.join(', ')} join the server`);

  await step('alice subscribes to Legendary', () => subscribe('alice', 'legendary'));
  await step('bob subscribes to Titan', () => subscribe('bob', 'titan'));
  await step('carol subscribes to Elite', () => subscribe('carol', 'elite'));
  await step('dave subscribes to Warlord', () => subscribe('dave', 'warlord'));
  await step('erin subscribes to Elite', () => subscribe('erin', 'elite'));
  await step('frank subscribes to Legendary', () => subscribe('frank', 'legendary'));

  let aliceActivated: Delivery | null = null;
  await step("PayPal's webhooks arrive after the return pages: payments recorded, roles untouched", async () => {
    const who = LIFECYCLE;
    const before = who.map((w) => footprint(w).slice(0, 3));
    const marks = who.map((w) => auditTitles(w).length);
    const answers = new Set<string>();
    for (const w of who) {
      const sub = act.billedSubscription(MEMBERS[w]);
      const activated = await act.deliverAgain(stage.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', sub.id));
      if (w === 'alice') aliceActivated = activated;
      answers.add(accepted(activated));
      answers.add(accepted(await act.deliverAgain(stage.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sub.sales[0]?.id ?? ''))));
    }
    for (const [i, w] of who.entries()) await audited(w, 'Payment recorded', marks[i]);
    check(JSON.stringify(who.map((w) => footprint(w).slice(0, 3))) === JSON.stringify(before), 'no role change for anyone (the return pages already applied them)');
    return { did: 'PayPal notifies, for each of the six: ACTIVATED and PAYMENT.SALE.COMPLETED', concierge: `${[...answers].join(', ')}; each re-read from PayPal; 6 × audit: Payment recorded`, discord: 'no role change' };
  });

  await fastForward(10 * DAY, 'ten days later');

  await step('carol upgrades to Titan at once (prorated fee)', async () => {
    const old = act.billedSubscription(MEMBERS.carol);
    const reply = await act.subscribe(MEMBERS.carol, 'titan');
    check(reply.title === 'Upgrade to Titan now' && reply.approveUrl !== null, 'an "Upgrade to Titan now" reply with a PayPal link', reply.text);
    const fee = /pay \*\*([\d.]+) USD today\*\*/.exec(reply.text)?.[1];
    check(fee !== undefined && Number(fee) > 0 && Number(fee) < 15, 'a prorated fee: the 15.00 USD monthly difference for the days left', reply.text);
    const page = await act.approve(reply.approveUrl);
    check(page.status === 200, 'the return page to answer 200', `${page.status}`);
    const shown = await roles('carol', ['Titan']);
    await eventually(() => stage.paypal.get(old.id)?.status, (s) => s === 'CANCELLED', "carol's Elite subscription to be cancelled at PayPal");
    const fresh = act.billedSubscription(MEMBERS.carol);
    check(fresh.sales.map((s) => s.amount).join(',') === fee, `the fee ${fee} charged once on the new subscription`, fresh.sales.map((s) => s.amount).join(','));
    return { did: '/subscribe tier:titan while paying for Elite, approves', concierge: `"${firstLine(reply)}"; ${fee} USD charged once; Elite subscription ${old.id} cancelled at PayPal`, discord: shown };
  });

  await step('bob downgrades to Elite and keeps Titan until his period ends', async () => {
    const reply = await act.subscribe(MEMBERS.bob, 'elite');
    check(reply.title === 'Change to Elite' && reply.approveUrl !== null, 'a "Change to Elite" reply with a PayPal link', reply.text);
    checkText(reply.text, 'You keep Titan until', 'the reply');
    const page = await act.approve(reply.approveUrl);
    checkText(page.text, 'Your change to Elite is confirmed', 'the return page');
    await staysSame(() => act.tierRoles(MEMBERS.bob), 'bob to keep Titan');
    return { did: '/subscribe tier:elite while paying for Titan, approves the change', concierge: `return page "${page.heading}: ${readable(page.text.match(/You keep [^;]*/)?.[0] ?? '')}"`, discord: await roles('bob', ['Titan']) };
  });

  await step('erin cancels and keeps Elite until her period ends', async () => {
    const { question, result } = await act.cancel(MEMBERS.erin);
    checkText(result.text, 'You keep **Elite** until', 'the answer to Confirm');
    const dm = await dmed('erin', 'Your membership was cancelled');
    await staysSame(() => act.tierRoles(MEMBERS.erin), 'erin to keep Elite');
    return { did: `/cancel → "${question.title ?? firstLine(question)}" → Confirm`, concierge: `"${firstLine(result)}"; ${dm}`, discord: await roles('erin', ['Elite']) };
  });

  await step('a refund PayPal confirms revokes dave at once', async () => {
    const d = await act.refund(MEMBERS.dave, true);
    const answer = accepted(d);
    const shown = await roles('dave', []);
    return { did: 'dave is refunded on PayPal; PayPal notifies', concierge: `${answer}; confirmed with PayPal; ${await audited('dave', 'Access revoked (refund / chargeback)')}`, discord: shown };
  });

  await step("a refund PayPal does not confirm changes nothing for alice", async () => {
    const before = footprint('alice');
    const d = await act.refund(MEMBERS.alice, false);
    const answer = accepted(d);
    await eventually(() => stage.discord.messages(stage.discord.auditChannelId).flatMap((m) => m.embeds).filter((e) => e.title === 'Unconfirmed PayPal event (security)' && JSON.stringify(e).includes(d.event.id)).length, (k) => k > 0, 'a security audit message about the unconfirmed event');
    await staysSame(() => footprint('alice'), 'nothing to change for alice');
    check(JSON.stringify(footprint('alice')) === JSON.stringify(before), 'alice untouched');
    return { did: 'a validly signed PAYMENT.SALE.REFUNDED for a sale PayPal never refunded', concierge: `${answer}; PayPal's records say COMPLETED → nothing changed; security audit`, discord: rolesText('alice') };
  });

  await step('a duplicate delivery changes nothing', async () => {
    check(aliceActivated !== null, 'an earlier event to repeat');
    const before = footprint('alice');
    const answer = accepted(await act.deliverAgain(aliceActivated.event));
    await staysSame(() => footprint('alice'), 'a repeat to change nothing');
    check(JSON.stringify(footprint('alice')) === JSON.stringify(before), 'alice untouched');
    return { did: `PayPal sends ${aliceActivated.event.id} again`, concierge: `${answer} (already in the inbox: acknowledged, not processed again)`, discord: rolesText('alice') };
  });

  await step('a forged webhook is refused', async () => {
    const before = footprint('alice');
    const d = await act.forge(stage.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', act.billedSubscription(MEMBERS.alice).id));
    const answer = accepted(d, 400);
    checkText(d.body, 'bad_signature', 'the answer');
    await staysSame(() => footprint('alice'), 'a forged event to change nothing');
    check(JSON.stringify(footprint('alice')) === JSON.stringify(before), 'alice untouched');
    return { did: "someone posts a CANCELLED event for alice's subscription with a bad signature", concierge: answer, discord: rolesText('alice') };
  });

  await step("a moderator removes alice's role by hand; Concierge puts it back", async () => {
    act.editRoles(MEMBERS.alice, []);
    check(same(act.tierRoles(MEMBERS.alice), []), 'the edit to take effect');
    const shown = await roles('alice', ['Legendary']);
    return { did: 'a moderator takes Legendary from alice in the Discord client', concierge: await audited('alice', 'Manual role edit'), discord: shown };
  });

  await step('alice leaves the server and rejoins: Legendary comes back', async () => {
    const from = auditTitles('alice').length;
    act.leave(MEMBERS.alice);
    check(act.tierRoles(MEMBERS.alice) === null, 'alice to be gone');
    act.join(MEMBERS.alice, 'alice');
    const shown = await roles('alice', ['Legendary']);
    return { did: 'alice leaves, then joins again (Discord drops a leaver’s roles)', concierge: await audited('alice', 'Member rejoined', from), discord: shown };
  });

  await fastForward(22 * DAY, 'three weeks later, past everyone’s paid month');

  await step('past the paid period: erin lapses, bob moves to Elite', async () => {
    const erin = await roles('erin', []);
    const bob = await roles('bob', ['Elite']);
    for (const [who, tier] of [['alice', 'Legendary'], ['carol', 'Titan'], ['frank', 'Legendary']] as const) await roles(who, [tier]);
    await audited('bob', 'Tier changed', 1);
    return { did: '(time passes; nobody does anything)', concierge: `lapse check: ${await dmed('erin', 'Your membership has ended')}; bob's downgrade takes effect (audit: Tier changed)`, discord: `${erin}; ${bob}` };
  });

  await step('PayPal charges the renewals of alice, bob and carol', async () => {
    const amounts: string[] = [];
    for (const who of ['alice', 'bob', 'carol'] as const) {
      const from = auditTitles(who).length;
      const { sale, delivery } = await act.renew(MEMBERS[who]);
      accepted(delivery);
      amounts.push(`${who} ${sale.amount}`);
      await audited(who, 'Payment recorded', from);
    }
    check(amounts.join(', ') === 'alice 9.99, bob 4.99, carol 19.99', 'each renewal at the price of the plan in force', amounts.join(', '));
    const shown = [await roles('alice', ['Legendary']), await roles('bob', ['Elite']), await roles('carol', ['Titan'])].join('; ');
    return { did: `PAYMENT.SALE.COMPLETED ×3 (${amounts.join(', ')} USD)`, concierge: 'payments recorded, paid-through extended; audit: Payment recorded', discord: shown };
  });

  await step("frank's renewal fails: he keeps Legendary through the grace period", async () => {
    const answer = accepted(await act.failPayment(MEMBERS.frank));
    const dm = await dmed('frank', 'Your payment did not go through');
    const audit = await audited('frank', 'Payment failed');
    return { did: "PayPal declines frank's card", concierge: `${answer}; ${dm}; ${audit}`, discord: await roles('frank', ['Legendary']) };
  });

  await fastForward(2 * DAY, 'two days into the 3-day grace period');

  await step('frank, two days later, still has Legendary; /status says past due', async () => {
    await staysSame(() => act.tierRoles(MEMBERS.frank), 'frank to keep Legendary inside the grace period');
    const status = await act.status(MEMBERS.frank);
    checkText(status.text, 'PayPal could not collect your last payment', '/status');
    return { did: '/status', concierge: `"${firstLine(status)}"`, discord: await roles('frank', ['Legendary']) };
  });

  await step("PayPal's retry succeeds: frank recovers", async () => {
    const from = auditTitles('frank').length;
    const { sale, delivery } = await act.renew(MEMBERS.frank);
    const answer = accepted(delivery);
    // The audit message is posted after the payment's state change committed, so /status sees it.
    await audited('frank', 'Payment recorded', from);
    const status = await act.status(MEMBERS.frank);
    checkText(status.text, 'State: Active', '/status');
    return { did: `PayPal retries and collects ${sale.amount} USD`, concierge: `${answer}; past-due cleared; /status "State: Active"`, discord: await roles('frank', ['Legendary']) };
  });
}
