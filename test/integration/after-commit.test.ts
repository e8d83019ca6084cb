import { afterEach, describe, expect, it } from 'vitest';
import { roleSyncJob } from '../../src/jobs/definitions.ts';
import { enqueue } from '../../src/jobs/queue.ts';
import { afterCommit, openStore, type Store } from '../../src/store/db.ts';

const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function open(): Store {
  const store = openStore(':memory:');
  stores.push(store);
  return store;
}

const jobCount = (store: Store) => (store.sqlite.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n;

describe('Store.transaction after-commit work', () => {
  it('runs after COMMIT, in order, and sees the committed rows', () => {
    const store = open();
    const seen: string[] = [];
    const result = store.transaction((tx) => {
      enqueue(tx, roleSyncJob, { memberId: '1' }, 0);
      afterCommit(tx, () => seen.push(`first, ${jobCount(store)} job, in transaction: ${store.sqlite.inTransaction}`));
      afterCommit(tx, () => seen.push('second'));
      seen.push('body');
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).toEqual(['body', 'first, 1 job, in transaction: false', 'second']);
  });

  it('drops it when the transaction rolls back', () => {
    const store = open();
    const seen: string[] = [];
    expect(() =>
      store.transaction((tx) => {
        afterCommit(tx, () => seen.push('ran'));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(seen).toEqual([]);
    // The next transaction does not inherit it.
    store.transaction(() => undefined);
    expect(seen).toEqual([]);
  });

  it('is refused outside Store.transaction', () => {
    const store = open();
    expect(() => afterCommit(store.db, () => undefined)).toThrow('needs a transaction opened by Store.transaction');
  });

  it('runs the rest when one throws, then rethrows (the data is committed)', () => {
    const store = open();
    const seen: string[] = [];
    expect(() =>
      store.transaction((tx) => {
        enqueue(tx, roleSyncJob, { memberId: '1' }, 0);
        afterCommit(tx, () => {
          throw new Error('callback broke');
        });
        afterCommit(tx, () => seen.push('second'));
      }),
    ).toThrow('callback broke');
    expect(seen).toEqual(['second']);
    expect(jobCount(store)).toBe(1);
  });
});

describe('Store.onJobQueued', () => {
  it('tells listeners once per committed transaction that queued jobs, never for a rollback or one that queued none', () => {
    const store = open();
    let calls = 0;
    const unsubscribe = store.onJobQueued(() => (calls += 1));
    store.transaction((tx) => {
      for (let i = 0; i < 50; i++) enqueue(tx, roleSyncJob, { memberId: String(i) }, 0);
    });
    expect(calls).toBe(1);
    expect(() =>
      store.transaction((tx) => {
        enqueue(tx, roleSyncJob, { memberId: 'x' }, 0);
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    store.transaction(() => undefined);
    expect(calls).toBe(1);
    unsubscribe();
    store.transaction((tx) => enqueue(tx, roleSyncJob, { memberId: 'y' }, 0));
    expect(calls).toBe(1);
  });
});
