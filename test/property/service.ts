import { afterAll, beforeAll } from 'vitest';
import type { PaypalClient } from '../../src/paypal/client.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { paypalClientFor } from './lifecycle-driver.ts';

export interface PropertyService {
  h: Harness;
  api: PaypalClient;
}

/**
 * One service per property file (harness with both stand-ins, plus a PayPal SDK client of its own), started
 * before the file's properties and closed after: the runs share it, each with new members.
 */
export function usePropertyService(): PropertyService {
  // Filled by beforeAll before any test reads it.
  const svc = {} as PropertyService;
  beforeAll(async () => {
    svc.h = await startHarness();
    svc.api = paypalClientFor(svc.h);
  }, 60_000);
  afterAll(async () => {
    svc.api.close();
    await svc.h.close();
  });
  return svc;
}
