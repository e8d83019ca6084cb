import type { PaypalStandIn, RetriedDelivery, RetryPolicy } from '../../src/stand-ins/paypal/server.ts';
import type { MemberScript } from './crash-scripts.ts';
import type { Random } from './crash-random.ts';
import { TEST_WEBHOOK_ID } from './harness.ts';

/**
 * The webhook storm: the members' scripted steps interleaved at random, each
 * step's events handed to PayPal's delivery (retried until acknowledged),
 * each after a random delay so later events overtake earlier ones, some
 * delivered twice (PayPal does that). All choices come from `plan`, which
 * nothing timing-dependent draws from, so a seed replays the same storm.
 */

export interface Delivery {
  eventId: string;
  eventType: string;
  memberId: string;
  /** A second, independent delivery of an event already sent. */
  duplicate: boolean;
  /** Set once PayPal stopped trying (acknowledged, or out of attempts). */
  result: RetriedDelivery | null;
}

export interface StormOptions {
  paypal: PaypalStandIn;
  webhookUrl: string;
  members: MemberScript[];
  plan: Random;
  /** Jitter of the retry schedule (timing-dependent, so a stream of its own). */
  retryRandom: Random;
  /** Pause between two steps. */
  gapMs: number;
  /** Each delivery starts 0..maxSkewMs after its step: the spread that reorders events. */
  maxSkewMs: number;
  duplicateChance: number;
  retry: Omit<RetryPolicy, 'random' | 'signal'>;
  signal: AbortSignal;
}

export interface Storm {
  deliveries: Delivery[];
  /** Every event sent: id → its type and member. */
  events: Map<string, { eventType: string; memberId: string }>;
  steps: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runStorm(o: StormOptions): Promise<Storm> {
  const deliveries: Delivery[] = [];
  const events = new Map<string, { eventType: string; memberId: string }>();
  const inFlight: Promise<void>[] = [];
  let steps = 0;

  const send = (d: Delivery, event: Parameters<PaypalStandIn['deliverUntilAcknowledged']>[0], afterMs: number) => {
    deliveries.push(d);
    inFlight.push(
      sleep(afterMs).then(async () => {
        d.result = await o.paypal.deliverUntilAcknowledged(event, {
          url: o.webhookUrl,
          webhookId: TEST_WEBHOOK_ID,
          retry: { ...o.retry, random: o.retryRandom.next, signal: o.signal },
        });
      }),
    );
  };

  const pending = o.members.filter((m) => m.steps.length > 0);
  while (pending.length > 0 && !o.signal.aborted) {
    const i = o.plan.int(0, pending.length - 1);
    const member = pending[i];
    if (member === undefined) break;
    const step = member.steps.shift();
    if (member.steps.length === 0) pending.splice(i, 1);
    if (step === undefined) continue;
    steps++;
    for (const event of step.run()) {
      events.set(event.id, { eventType: event.event_type, memberId: member.memberId });
      const base = { eventId: event.id, eventType: event.event_type, memberId: member.memberId, result: null };
      send({ ...base, duplicate: false }, event, o.plan.int(0, o.maxSkewMs));
      if (o.plan.chance(o.duplicateChance)) send({ ...base, duplicate: true }, event, o.plan.int(0, 2 * o.maxSkewMs));
    }
    await sleep(o.gapMs);
  }
  await Promise.all(inFlight);
  return { deliveries, events, steps };
}
