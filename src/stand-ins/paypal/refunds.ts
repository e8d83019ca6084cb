import { money } from './ids.ts';
import type { StoredSale } from './model.ts';

/**
 * What happens to a sale after it completed: a refund the merchant issues, or
 * a reversal PayPal forces (a chargeback lost, an unauthorised payment). The
 * sale's status is what GET …/transactions then shows. Like PayPal, nothing
 * here sends a webhook: build one with saleEvent() afterwards.
 */

const cents = (value: string): number => Math.round(Number(value) * 100);

export function createRefunds(findSale: (saleId: string) => StoredSale | undefined) {
  function mustSale(saleId: string): StoredSale {
    const sale = findSale(saleId);
    if (!sale) throw new Error(`PayPal stand-in: no sale ${saleId} (record one with approve() or recordPayment())`);
    return sale;
  }

  /** No amount: the rest of the sale. Less than the rest: PARTIALLY_REFUNDED until refunds add up to the sale. */
  function refundSale(saleId: string, o: { amount?: string } = {}): StoredSale {
    const sale = mustSale(saleId);
    if (sale.status === 'REFUNDED' || sale.status === 'REVERSED') throw new Error(`PayPal stand-in: sale ${saleId} is already ${sale.status}`);
    const left = cents(sale.amount) - cents(sale.refunded);
    const amount = o.amount === undefined ? left : cents(o.amount);
    // PayPal refuses a refund above what is left (REFUND_EXCEEDED_TRANSACTION_AMOUNT).
    if (amount <= 0 || amount > left) throw new Error(`PayPal stand-in: cannot refund ${o.amount ?? ''} of sale ${saleId}; ${money(left / 100)} left`);
    sale.refunded = money((cents(sale.refunded) + amount) / 100);
    sale.status = amount === left ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
    return sale;
  }

  function reverseSale(saleId: string): StoredSale {
    const sale = mustSale(saleId);
    sale.status = 'REVERSED';
    return sale;
  }

  return { refundSale, reverseSale };
}
