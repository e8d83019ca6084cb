import type { Logger } from './log.ts';

/**
 * What has been started, to be stopped in reverse order. Each part of the
 * service pushes its closer as soon as it exists, so a start that fails
 * halfway and a normal shutdown unwind the same list: nothing started is
 * left running (a writer thread, a gateway connection, a poll loop).
 */
export interface Closers {
  push(name: string, close: () => void | Promise<void>): void;
  /**
   * Runs every closer, the last pushed first. A closer that fails is logged
   * and the others still run; then it rejects with the first failure.
   */
  closeAll(): Promise<void>;
}

export function createClosers(log: Logger): Closers {
  const stack: { name: string; close: () => void | Promise<void> }[] = [];
  return {
    push: (name, close) => void stack.push({ name, close }),
    async closeAll() {
      let failure: { err: unknown } | null = null;
      for (let c = stack.pop(); c !== undefined; c = stack.pop()) {
        try {
          await c.close();
        } catch (err) {
          log.error({ err, part: c.name }, 'closing a part of the service failed');
          failure ??= { err };
        }
      }
      if (failure !== null) throw failure.err;
    },
  };
}
