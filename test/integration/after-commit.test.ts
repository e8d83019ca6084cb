import { afterEach, describe, expect, it } from 'vitest';
import { roleSyncJob } from '../../src/jobs/definitions.ts';
import { enqueue } from '../../src/jobs/queue.ts';
import { openStore, signalJobQueued, type Store } from '../../src/store/db.ts';

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

describe('Store.transaction runs onJobQueued listeners after COMMIT', () => {
  it('in order, outside the transaction, seeing the committed rows', () => {
    const store = open();
    const seen: string[] = [];
    store.onJobQueued(() => seen.push(`first, ${jobCount(store)} job, in transaction: ${store.sqlite.inTransaction}`));
    store.onJobQueued(() => seen.push('second'));
    const result = store.transaction((tx) => {
      enqueue(tx, roleSyncJob, { memberId: '1' }, 0);
      seen.push('body');
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).toEqual(['body', 'first, 1 job, in transaction: false', 'second']);
  });

  it('refuses to queue a job outside Store.transaction (there would be no commit to wake on)', () => {
    const store = open();
    expect(() => signalJobQueued(store.db)).toThrow('queueing a job needs a transaction opened by Store.transaction');
  });

  it('runs the rest when one throws, then rethrows (the data is committed)', () => {
    const store = open();
    const seen: string[] = [];
    store.onJobQueued(() => {
      throw new Error('listener broke');
    });
    store.onJobQueued(() => seen.push('second'));
    expect(() => store.transaction((tx) => void enqueue(tx, roleSyncJob, { memberId: '1' }, 0))).toThrow('listener broke');
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
