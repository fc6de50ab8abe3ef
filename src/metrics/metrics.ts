import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { PatCacheStats } from '../pat/pat-cache.ts';
import { createHttpStats } from './http-stats.ts';

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** One registry per context (no global default registry), with every metric we export. */
export function createMetrics(deps: { poolStats: () => PoolStats; patCache?: () => PatCacheStats; processMetrics?: boolean }) {
  const registry = new Registry();
  if (deps.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'cells_auth_' });

  const http = createHttpStats(registry);
  const tokensIssued = new Counter({
    name: 'cells_auth_tokens_issued_total',
    help: 'Token endpoint successes by grant type',
    labelNames: ['grant'] as const,
    registers: [registry],
  });
  const patVerifications = new Counter({
    name: 'cells_auth_pat_verifications_total',
    help: 'Personal access token verifications by result',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const loginFailures = new Counter({
    name: 'cells_auth_login_failures_total',
    help: 'Failed sign-ins (wrong credentials, locked, throttled)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'cells_auth_db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const s = deps.poolStats();
      this.set({ state: 'total' }, s.total);
      this.set({ state: 'idle' }, s.idle);
      this.set({ state: 'waiting' }, s.waiting);
    },
  });
  // Counted by the cache itself (it sees every check), read when scraped.
  const patCache = deps.patCache;
  if (patCache) {
    new Gauge({
      name: 'cells_auth_pat_cache_entries',
      help: 'Verified personal access tokens kept in memory',
      registers: [registry],
      collect() {
        this.set(patCache().size);
      },
    });
    new Gauge({
      name: 'cells_auth_pat_cache_fresh',
      help: '1 while the PAT change feed is read in time (kept answers in use), else 0',
      registers: [registry],
      collect() {
        this.set(patCache().fresh ? 1 : 0);
      },
    });
    new Counter({
      name: 'cells_auth_pat_cache_lookups_total',
      help: 'PAT checks answered from memory (hit), or read from the database: not kept (miss), kept but due to be read again (due), the change feed not read in time (stale)',
      labelNames: ['result'] as const,
      registers: [registry],
      collect() {
        const s = patCache();
        this.reset();
        this.inc({ result: 'hit' }, s.hits);
        this.inc({ result: 'miss' }, s.unknown);
        this.inc({ result: 'due' }, s.due);
        this.inc({ result: 'stale' }, s.stale);
      },
    });
  }

  return { registry, http, tokensIssued, patVerifications, loginFailures };
}

export type Metrics = ReturnType<typeof createMetrics>;
