import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditJob, defineJob, dmJob, JOB_DEFINITIONS, lapseCheckJob, processWebhookJob, reconcileJob, roleSyncJob } from '../../src/jobs/definitions.ts';
import { enqueue } from '../../src/jobs/queue.ts';
import type { Tx } from '../../src/store/db.ts';

/**
 * The catalogue's promises. The type checks are compile-time: `npx tsc
 * --noEmit` fails if any @ts-expect-error below stops being an error. The
 * function holding them is never called.
 */
function typeChecks(tx: Tx, now: number): void {
  // Right payloads compile.
  enqueue(tx, roleSyncJob, { memberId: '1' }, now);
  enqueue(tx, roleSyncJob, { memberId: '1', resync: true }, now, { dedupeKey: '1' });
  enqueue(tx, dmJob, { memberId: '1', kind: 'welcome', tierKey: null, until: null }, now);
  enqueue(tx, auditJob, { auditId: 1 }, now);

  // @ts-expect-error a wrong payload: role-sync needs memberId
  enqueue(tx, roleSyncJob, { auditId: 1 }, now);
  // @ts-expect-error a wrong payload: memberId is a string
  enqueue(tx, lapseCheckJob, { memberId: 1 }, now);
  // @ts-expect-error a wrong payload: resync is a boolean
  enqueue(tx, roleSyncJob, { memberId: '1', resync: 'yes' }, now);
  // @ts-expect-error a wrong payload: no such DM kind
  enqueue(tx, dmJob, { memberId: '1', kind: 'hello', tierKey: null, until: null }, now);
  // @ts-expect-error an unknown kind given by name: enqueue takes a definition
  enqueue(tx, 'role-sync', { memberId: '1' }, now);
  // @ts-expect-error an unknown kind: a definition outside the catalogue
  enqueue(tx, defineJob({ kind: 'no-such-kind', schema: z.object({ memberId: z.string() }), maxAttempts: 3 }), { memberId: '1' }, now);
  // @ts-expect-error max attempts are the definition's, not the call site's
  enqueue(tx, auditJob, { auditId: 1 }, now, { maxAttempts: 3 });
}

describe('job definitions', () => {
  it('declare each kind once, with positive max attempts', () => {
    expect(typeof typeChecks).toBe('function');
    const kinds = JOB_DEFINITIONS.map((d) => d.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    for (const d of JOB_DEFINITIONS) expect(Number.isInteger(d.maxAttempts) && d.maxAttempts >= 1).toBe(true);
  });

  it('make a resync role sync and a scheduled reconciliation bulk work, and live work live', () => {
    expect(roleSyncJob.priority?.({ memberId: '1', resync: true })).toBe('bulk');
    expect(reconcileJob.priority?.({})).toBe('bulk');
    expect(roleSyncJob.priority?.({ memberId: '1' })).toBe('live');
    expect(processWebhookJob.priority).toBeUndefined();
  });

  it('refuse a definition without a positive whole number of attempts', () => {
    expect(() => defineJob({ kind: 'x', schema: z.object({}), maxAttempts: 0 })).toThrow(RangeError);
  });
});
