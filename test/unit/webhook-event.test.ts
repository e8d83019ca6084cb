import { describe, expect, it } from 'vitest';
import { envelopeSchema, routeEvent, type EventRoute } from '../../src/core/webhook-event.ts';

/** A webhook body as PayPal posts it (the parts Concierge reads). */
const event = (event_type: string, resource: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'WH-1AB23456CD789012E-3FG45678HI901234J',
  event_version: '1.0',
  create_time: '2024-03-15T12:00:05.123Z',
  resource_type: 'subscription',
  summary: 'test event',
  event_type,
  resource,
  ...extra,
});

const SUB = 'I-BW452GLLEP1G';
const subscriptionResource = { id: SUB, status: 'ACTIVE', plan_id: 'P-TITAN0MONTHLY00000000001', custom_id: '300000000000000001' };

const rows: { name: string; body: unknown; route: EventRoute | { kind: 'ignored' } }[] = [
  ...[
    'BILLING.SUBSCRIPTION.CREATED',
    'BILLING.SUBSCRIPTION.ACTIVATED',
    'BILLING.SUBSCRIPTION.RE-ACTIVATED',
    'BILLING.SUBSCRIPTION.UPDATED',
    'BILLING.SUBSCRIPTION.PAYMENT.FAILED',
    'BILLING.SUBSCRIPTION.SUSPENDED',
    'BILLING.SUBSCRIPTION.CANCELLED',
    'BILLING.SUBSCRIPTION.EXPIRED',
  ].map((type) => ({ name: `${type} → re-read the subscription`, body: event(type, subscriptionResource), route: { kind: 'subscription', subscriptionId: SUB } as const })),
  { name: 'BILLING.SUBSCRIPTION.* without resource.id → ignored', body: event('BILLING.SUBSCRIPTION.ACTIVATED', { status: 'ACTIVE' }), route: { kind: 'ignored' } },
  { name: 'BILLING.SUBSCRIPTION.* with an empty resource.id → ignored', body: event('BILLING.SUBSCRIPTION.CANCELLED', { id: '' }), route: { kind: 'ignored' } },
  {
    name: 'PAYMENT.SALE.COMPLETED with billing_agreement_id → record the sale',
    body: event(
      'PAYMENT.SALE.COMPLETED',
      { id: '80021663DE681814L', state: 'completed', billing_agreement_id: SUB, amount: { total: '19.99', currency: 'USD', details: { subtotal: '19.99' } }, create_time: '2024-03-15T11:59:58Z' },
      { resource_type: 'sale' },
    ),
    route: { kind: 'sale-completed', saleId: '80021663DE681814L', subscriptionId: SUB, sentAt: '2024-03-15T11:59:58Z' },
  },
  {
    name: 'PAYMENT.SALE.COMPLETED without its own create_time → the event time',
    body: event('PAYMENT.SALE.COMPLETED', { id: '80021663DE681814L', billing_agreement_id: SUB, amount: { total: '9.99', currency: 'EUR' } }),
    route: { kind: 'sale-completed', saleId: '80021663DE681814L', subscriptionId: SUB, sentAt: '2024-03-15T12:00:05.123Z' },
  },
  {
    name: 'PAYMENT.SALE.COMPLETED without billing_agreement_id (not a subscription) → ignored',
    body: event('PAYMENT.SALE.COMPLETED', { id: '80021663DE681814L', amount: { total: '5.00', currency: 'USD' } }),
    route: { kind: 'ignored' },
  },
  { name: 'PAYMENT.SALE.COMPLETED with a malformed sale (no id) → ignored', body: event('PAYMENT.SALE.COMPLETED', { billing_agreement_id: SUB }), route: { kind: 'ignored' } },
  {
    name: 'PAYMENT.SALE.REFUNDED → reversal of the sale named in sale_id',
    body: event(
      'PAYMENT.SALE.REFUNDED',
      { id: '1Y107995YT783435V', sale_id: '80021663DE681814L', billing_agreement_id: SUB, amount: { total: '-19.99', currency: 'USD' }, create_time: '2024-03-15T11:58:00Z' },
      { resource_type: 'refund' },
    ),
    route: { kind: 'sale-reversal', saleId: '80021663DE681814L', subscriptionId: SUB, reason: 'refunded', sentAt: '2024-03-15T11:58:00Z' },
  },
  {
    name: 'PAYMENT.SALE.REFUNDED without billing_agreement_id → subscription unknown (looked up by sale); no create_time → the event time',
    body: event('PAYMENT.SALE.REFUNDED', { id: '1Y107995YT783435V', sale_id: '80021663DE681814L' }),
    route: { kind: 'sale-reversal', saleId: '80021663DE681814L', subscriptionId: null, reason: 'refunded', sentAt: '2024-03-15T12:00:05.123Z' },
  },
  {
    name: 'PAYMENT.SALE.REVERSED → reversal of the sale in resource.id',
    body: event('PAYMENT.SALE.REVERSED', { id: '80021663DE681814L', state: 'reversed', billing_agreement_id: SUB }),
    route: { kind: 'sale-reversal', saleId: '80021663DE681814L', subscriptionId: SUB, reason: 'reversed', sentAt: '2024-03-15T12:00:05.123Z' },
  },
  { name: 'PAYMENT.SALE.REVERSED without an id → ignored', body: event('PAYMENT.SALE.REVERSED', { state: 'reversed' }), route: { kind: 'ignored' } },
  {
    name: 'CUSTOMER.DISPUTE.CREATED at CHARGEBACK → chargeback, read by dispute_id (the body’s disputed_transactions are not trusted)',
    body: event(
      'CUSTOMER.DISPUTE.CREATED',
      {
        dispute_id: 'PP-D-27803',
        dispute_life_cycle_stage: 'CHARGEBACK',
        disputed_transactions: [{ seller_transaction_id: '80021663DE681814L' }, { buyer_transaction_id: 'only-buyer-side' }, { seller_transaction_id: '3BC38643YC807283D' }],
      },
      { resource_type: 'dispute' },
    ),
    route: { kind: 'chargeback', disputeId: 'PP-D-27803' },
  },
  {
    name: 'CUSTOMER.DISPUTE.UPDATED at CHARGEBACK → chargeback',
    body: event('CUSTOMER.DISPUTE.UPDATED', { dispute_id: 'PP-D-27804', dispute_life_cycle_stage: 'CHARGEBACK' }),
    route: { kind: 'chargeback', disputeId: 'PP-D-27804' },
  },
  {
    name: 'chargeback without dispute_id → ignored, even when the body lists disputed transactions',
    body: event('CUSTOMER.DISPUTE.UPDATED', { dispute_life_cycle_stage: 'CHARGEBACK', disputed_transactions: [{ seller_transaction_id: '80021663DE681814L' }] }),
    route: { kind: 'ignored' },
  },
  {
    name: 'chargeback with an empty dispute_id → ignored (malformed)',
    body: event('CUSTOMER.DISPUTE.CREATED', { dispute_id: '', dispute_life_cycle_stage: 'CHARGEBACK' }),
    route: { kind: 'ignored' },
  },
  {
    name: 'CUSTOMER.DISPUTE.CREATED at INQUIRY → ignored',
    body: event('CUSTOMER.DISPUTE.CREATED', { dispute_id: 'PP-D-27805', dispute_life_cycle_stage: 'INQUIRY', disputed_transactions: [{ seller_transaction_id: '80021663DE681814L' }] }),
    route: { kind: 'ignored' },
  },
  { name: 'CUSTOMER.DISPUTE.* with no stage → ignored', body: event('CUSTOMER.DISPUTE.RESOLVED', { dispute_id: 'PP-D-27806', disputed_transactions: [{ seller_transaction_id: '80021663DE681814L' }] }), route: { kind: 'ignored' } },
  { name: 'CHECKOUT.ORDER.APPROVED → ignored', body: event('CHECKOUT.ORDER.APPROVED', { id: '5O190127TN364715T', status: 'APPROVED' }), route: { kind: 'ignored' } },
  { name: 'PAYMENT.CAPTURE.COMPLETED → ignored', body: event('PAYMENT.CAPTURE.COMPLETED', { id: '42311647XV020574X' }), route: { kind: 'ignored' } },
  { name: 'BILLING.PLAN.CREATED (not a subscription) → ignored', body: event('BILLING.PLAN.CREATED', { id: 'P-5ML4271244454362WXNWU5NQ' }), route: { kind: 'ignored' } },
  { name: 'an event without a resource → ignored', body: { id: 'WH-X', event_type: 'BILLING.SUBSCRIPTION.ACTIVATED' }, route: { kind: 'ignored' } },
];

describe('routeEvent', () => {
  it.each(rows)('$name', ({ body, route }) => {
    const got = routeEvent(envelopeSchema.parse(body));
    if (route.kind === 'ignored') {
      expect(got.kind).toBe('ignored');
      // The reason is logged and stored: it must say something.
      expect(got.kind === 'ignored' && got.why.length > 0).toBe(true);
    } else {
      expect(got).toEqual(route);
    }
  });
});

describe('envelopeSchema', () => {
  it.each([
    ['missing id', { event_type: 'BILLING.SUBSCRIPTION.ACTIVATED', resource: {} }],
    ['empty id', { id: '', event_type: 'BILLING.SUBSCRIPTION.ACTIVATED', resource: {} }],
    ['missing event_type', { id: 'WH-1', resource: {} }],
    ['empty event_type', { id: 'WH-1', event_type: '', resource: {} }],
    ['id not a string', { id: 7, event_type: 'BILLING.SUBSCRIPTION.ACTIVATED' }],
    ['resource not an object', { id: 'WH-1', event_type: 'BILLING.SUBSCRIPTION.ACTIVATED', resource: 'I-1' }],
    ['not an object', 'BILLING.SUBSCRIPTION.ACTIVATED'],
    ['null', null],
  ] as const)('rejects %s', (_name, body) => {
    expect(envelopeSchema.safeParse(body).success).toBe(false);
  });

  it('accepts a full PayPal body and defaults a missing resource to {}', () => {
    const full = envelopeSchema.parse(event('BILLING.SUBSCRIPTION.ACTIVATED', subscriptionResource));
    expect(full).toMatchObject({ id: 'WH-1AB23456CD789012E-3FG45678HI901234J', event_type: 'BILLING.SUBSCRIPTION.ACTIVATED', resource: subscriptionResource });
    expect(envelopeSchema.parse({ id: 'WH-1', event_type: 'X' }).resource).toEqual({});
  });
});
