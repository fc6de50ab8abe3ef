import t from 'tap';
import type { AuditInsert, AuditRepository } from '../../src/audit/audit.repository.ts';
import { createAuditService } from '../../src/audit/audit.service.ts';
import { createLogger } from '../../src/util/logger.ts';

const log = createLogger('silent');
const clock = { now: () => Date.parse('2026-01-01T00:00:00Z') };

function fakeRepo(fail = false) {
  const batches: string[][] = [];
  const repo = {
    insert: async () => {},
    insertMany: async (events: AuditInsert[]) => {
      if (fail) throw new Error('store down');
      batches.push(events.map((e) => e.action));
    },
    list: async () => [],
  } as unknown as AuditRepository;
  return { repo, batches };
}

t.test('queued events go out together, in order, within the delay', async (t) => {
  const { repo, batches } = fakeRepo();
  const audit = createAuditService({ repo, clock, log, batching: { delayMs: 20, maxEvents: 100 } });
  audit.recordSoon({ action: 'login.failure', outcome: 'failure' });
  audit.recordSoon({ action: 'account.locked' });
  audit.recordSoon({ action: 'login.success' });
  t.same(batches, [], 'not yet');
  await new Promise((r) => setTimeout(r, 60));
  t.same(batches, [['login.failure', 'account.locked', 'login.success']], 'one statement, in order');
});

t.test('a full queue is written at once; flush writes the rest; list shows what was queued', async (t) => {
  const { repo, batches } = fakeRepo();
  const audit = createAuditService({ repo, clock, log, batching: { delayMs: 60_000, maxEvents: 2 } });
  audit.recordSoon({ action: 'login.success' });
  audit.recordSoon({ action: 'login.success' });
  audit.recordSoon({ action: 'login.failure' });
  await audit.list({ limit: 10 });
  t.same(batches, [['login.success', 'login.success'], ['login.failure']], 'the full batch, then the rest before the list is read');
  await audit.flush();
  t.equal(batches.length, 2, 'nothing left to write');
});

t.test('a failed batch is logged, not thrown, and does not stop the next', async (t) => {
  const { repo } = fakeRepo(true);
  const audit = createAuditService({ repo, clock, log, batching: { delayMs: 60_000, maxEvents: 100 } });
  audit.recordSoon({ action: 'login.success' });
  await t.resolves(audit.flush());
  audit.recordSoon({ action: 'login.success' });
  await t.resolves(audit.flush());
});
