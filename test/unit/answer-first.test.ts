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
