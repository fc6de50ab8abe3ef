import type { Logger } from 'pino';
import type { Clock } from '../util/clock.ts';
import type { OidcModelsRepository } from './oidc-models.repository.ts';

/**
 * Deletes expired codes, tokens, sessions and interactions in small batches, off the hot path, and
 * whatever else expires with them (`also`: each deletes its own and says how many).
 */
export function createSweeper(deps: { repo: OidcModelsRepository; clock: Clock; log: Logger; batch?: number; also?: (() => Promise<number>)[] }) {
  const batch = deps.batch ?? 1000;
  let timer: NodeJS.Timeout | undefined;

  async function sweep(): Promise<number> {
    let total = 0;
    for (const other of deps.also ?? []) total += await other();
    for (;;) {
      const n = await deps.repo.sweepExpired(new Date(deps.clock.now()), batch);
      total += n;
      if (n < batch) return total;
    }
  }

  return {
    sweep,
    start(everyMs: number) {
      timer = setInterval(() => {
        sweep()
          .then((n) => n && deps.log.debug({ deleted: n }, 'swept expired rows'))
          .catch((err) => deps.log.warn({ err }, 'sweeping expired rows failed'));
      }, everyMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
