import type { EventRoute } from '../../core/webhook-event.ts';
import type { Logger } from '../../log.ts';
import type { Store } from '../../store/db.ts';
import type { WebhookEventRow } from '../../store/inbox-repo.ts';
import type { TiersSource } from '../../tiers.ts';
import type { PaypalReads } from '../paypal-reads.ts';
import type { MemberEffects } from '../member-effects.ts';

export interface ProcessDeps {
  store: Store;
  paypal: PaypalReads;
  tiers: TiersSource;
  clock: () => number;
  /** Serials and the marketplace sync that a recomputed member sets off. */
  effects: MemberEffects;
}

export type RouteKind = EventRoute['kind'];
/** The route of one kind, as core/webhook-event.ts routeEvent decides it. */
export type RouteOf<K extends RouteKind> = Extract<EventRoute, { kind: K }>;

/**
 * Handles one stored event of one kind: reads PayPal first (every event is
 * only a notification), then changes state in ONE transaction that also marks
 * the event (event-tx.ts inEventTx). Throws to have the job retry; a PayPal
 * failure never revokes anything.
 */
export type EventHandler<K extends RouteKind> = (deps: ProcessDeps, event: WebhookEventRow, route: RouteOf<K>, log: Logger | undefined) => Promise<void>;
