import type { Clock } from './clock.ts';

/**
 * A fixed-window counter per key (a client address), bounded in memory: when full, the oldest window
 * is evicted. Per instance, of every attempt, before anything is read; the failures are also counted
 * in the database for every instance (users.service.ts), and so is the lockout.
 */
export function createThrottle(opts: { limit: number; windowMs: number; clock: Clock; maxKeys?: number }) {
  const { limit, windowMs, clock } = opts;
  const maxKeys = opts.maxKeys ?? 50_000;
  const windows = new Map<string, { start: number; count: number }>();

  return {
    /** Counts one attempt; returns the seconds to wait when over the limit, else 0. */
    hit(key: string): number {
      const now = clock.now();
      let w = windows.get(key);
      if (!w || now - w.start >= windowMs) {
        windows.delete(key);
        if (windows.size >= maxKeys) windows.delete(windows.keys().next().value!);
        w = { start: now, count: 0 };
        windows.set(key, w);
      }
      w.count++;
      return w.count > limit ? Math.ceil((w.start + windowMs - now) / 1000) : 0;
    },
    reset(key: string): void {
      windows.delete(key);
    },
    size: () => windows.size,
  };
}

export type Throttle = ReturnType<typeof createThrottle>;
