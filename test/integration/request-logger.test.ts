import t from 'tap';
import { buildTestApp } from '../helpers/harness.ts';

// Request loggers are made only when a request writes a line (http/lazy-request-logger.ts): the lines
// that are written must still carry the request's id, and nothing below the level may appear.

const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

t.test('at debug, every request line carries its request id', async (t) => {
  const { url, logs } = await buildTestApp(t, { kind: 'pglite', config: { log: { level: 'debug' } } });
  const res = await fetch(`${url}/a/auth/verify`, { headers: { 'x-request-id': 'req-one' } });
  t.equal(res.status, 401);
  const mine = lines(logs()).filter((l) => l.reqId === 'req-one');
  t.ok(mine.some((l) => l.msg === 'incoming request'), 'the request line');
  t.ok(mine.some((l) => l.msg === 'request completed'), 'the completion line');
});

t.test('at info, a quiet request writes nothing; a failing one writes with its id', async (t) => {
  const { app, logs } = await buildTestApp(t, { kind: 'pglite', listen: false });
  app.get('/boom', async () => {
    throw new Error('kaboom');
  });
  const before = logs();
  t.equal((await app.inject({ url: '/healthz', headers: { 'x-request-id': 'req-quiet' } })).statusCode, 200);
  t.notOk(logs().slice(before.length).includes('req-quiet'), 'no line for a good request (its lines are debug)');
  t.equal((await app.inject({ url: '/a/auth/verify', headers: { 'x-request-id': 'req-refused' } })).statusCode, 401);
  t.ok(lines(logs()).some((l) => l.reqId === 'req-refused' && l.level === 30), 'a refusal: one info line, with its id');
  t.equal((await app.inject({ url: '/boom', headers: { 'x-request-id': 'req-boom' } })).statusCode, 500);
  const boom = lines(logs()).filter((l) => l.reqId === 'req-boom');
  t.ok(boom.length > 0, 'the failure is logged with the request id');
  t.ok(boom.every((l) => (l.level as number) >= 50), 'at error level');
});
