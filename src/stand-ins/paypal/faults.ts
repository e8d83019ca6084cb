import { createFaults as createSharedFaults, type BaseFaultSpec, type FaultHandle } from '../faults.ts';

/**
 * PayPal's faults: the shared matcher (src/stand-ins/faults.ts); a status's
 * default body is PayPal's (RATE_LIMIT_REACHED for 429, INTERNAL_SERVICE_ERROR for 5xx).
 */
export type FaultSpec = BaseFaultSpec;
export type { FaultHandle };

export const createFaults = () => createSharedFaults<FaultSpec>();
