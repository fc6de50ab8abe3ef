import Fastify from 'fastify';
import pino from 'pino';
import t from 'tap';
import { answerFirst } from '../../src/http/answer-first.ts';

// The fast paths in front of Fastify (src/http/answer-first.ts): what they leave, and what fails
// in them, reach Fastify.

t.test('a request no fast path answers, or one whose fast path throws, reaches Fastify', async (t) => {
  const app = Fastify();
  app.get('/x', async () => 'fastify');
  const logged: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
  answerFirst(
    app,
    [
      (req, res) => {
        if (req.url === '/boom') throw new Error('fast path bug');
        if (req.url !== '/x?fast') return false;
        res.end('fast');
        return true;
      },
    ],
    log as never,
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return [res.status, await res.text()];
  };
  t.same(await get('/x?fast'), [200, 'fast']);
  t.same(await get('/x'), [200, 'fastify']);
  t.same(await get('/boom'), [404, (await get('/boom'))[1]], 'a throwing fast path: Fastify answers (here, not found)');
  t.match(logged.join(''), /fast path failed/, 'and the failure is logged');
  await app.close();
});

t.test('a fast path that must wait has the request until it settles: answered, left, or failed', async (t) => {
  const app = Fastify();
  app.post('/x', async (request) => `fastify read ${String(request.body)}`);
  const logged: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
  const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 5));
  answerFirst(
    app,
    [
      (req, res) => {
        if (req.url === '/x?answer') {
          return later(true).then(() => {
            res.end('fast');
            return true;
          });
        }
        if (req.url === '/x?leave') return later(false);
        if (req.url === '/x?reject') return later(0).then(() => Promise.reject(new Error('fast path bug')));
        return false;
      },
      // Never offered a request the first took, even one it then left.
      () => {
        throw new Error('offered a request the first fast path had taken');
      },
    ],
    log as never,
  );
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const post = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'the body' });
    return [res.status, await res.text()];
  };
  t.same(await post('/x?answer'), [200, 'fast']);
  t.same(await post('/x?leave'), [200, 'fastify read the body'], 'left after a wait: Fastify answers, the body unread by the fast path');
  t.same(logged, [], 'nothing failed so far');
  t.same(await post('/x?reject'), [200, 'fastify read the body'], 'a rejected promise: Fastify answers');
  t.match(logged.join(''), /fast path failed/, 'and the failure is logged');
  await app.close();
});
