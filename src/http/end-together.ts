import type { ServerResponse } from 'node:http';

// The fast paths' answers (http/answer-first.ts) are ended together, a few at a time, not one by
// one as each is answered. Each write to a socket wakes its reader; on a small virtual machine
// waking a process that sleeps on another core is an interrupt between cores, and it was the
// largest single cost of a check after the write itself. Answers wait for the end of the turn of
// the event loop (setImmediate: after the poll phase has handed over every request that arrived at
// once), or until BATCH of them are waiting: a burst of a hundred requests must not hold the first
// answer for the time it takes to answer the other ninety-nine (at a fixed rate, p99 rose by 3–5 ms
// when every answer waited for the end of the turn).

/** At most this many answers wait for each other. */
const BATCH = 8;

export interface EndTogether {
  /** Ends `res` with `body` with the other answers of this turn, BATCH at a time at most. */
  end(res: ServerResponse, body: string): void;
}

export function endTogether(): EndTogether {
  let pending: [ServerResponse, string][] = [];
  let scheduled = false;
  function flush(): void {
    const now = pending;
    pending = [];
    for (const [res, body] of now) {
      try {
        res.end(body);
      } catch {
        // One broken response must not keep the others from going out.
        res.destroy();
      }
    }
  }
  return {
    end(res, body) {
      if (pending.push([res, body]) >= BATCH) return flush();
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        flush();
      });
    },
  };
}
