/** At most `limit` calls of `fn` run at once; the others wait their turn, in order. */
export function bounded<A extends unknown[], R>(limit: number, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (...args) => {
    // A finishing call hands its slot straight to the next waiter, so `running` never overshoots.
    if (running >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    else running++;
    try {
      return await fn(...args);
    } finally {
      const next = queue.shift();
      if (next) next();
      else running--;
    }
  };
}

